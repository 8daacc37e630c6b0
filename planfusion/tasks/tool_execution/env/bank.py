"""A bank: state {"accounts": {id: account}, "transactions": [...], "next_id": int}; amounts are whole dollars.

An account is {"id", "owner", "balance", "frozen"}; a transaction is
{"id", "from" (account or null for a deposit), "to", "amount", "memo"}, newest last.
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env.base import State, Tool, require, tool
from planfusion.tasks.tool_execution.env.schema import integer, string

BACKEND = "bank"


def _account(state: State, account_id: str) -> dict[str, Any]:
    require(account_id in state["accounts"], f"no account with id {account_id}")
    return state["accounts"][account_id]


def _record(state: State, source: str | None, target: str, amount: int, memo: str) -> str:
    txn_id = f"TX-{state['next_id']}"
    state["next_id"] += 1
    state["transactions"].append({"id": txn_id, "from": source, "to": target, "amount": amount, "memo": memo})
    return txn_id


def list_accounts(state: State, owner: str) -> dict[str, Any]:
    found = [{"id": a["id"], "frozen": a["frozen"]} for a in state["accounts"].values() if a["owner"] == owner]
    require(bool(found), f"no accounts for owner {owner!r}")
    return {"owner": owner, "accounts": sorted(found, key=lambda a: a["id"])}


def get_balance(state: State, account_id: str) -> dict[str, Any]:
    account = _account(state, account_id)
    return {"account_id": account_id, "owner": account["owner"], "balance": account["balance"]}


def list_transactions(state: State, account_id: str, limit: int = 5) -> dict[str, Any]:
    _account(state, account_id)
    mine = [dict(t) for t in state["transactions"] if account_id in (t["from"], t["to"])]
    return {"account_id": account_id, "transactions": mine[::-1][:limit]}


def transfer(state: State, from_account: str, to_account: str, amount: int, memo: str) -> dict[str, Any]:
    source, target = _account(state, from_account), _account(state, to_account)
    require(from_account != to_account, "cannot transfer to the same account")
    require(not source["frozen"], f"account {from_account} is frozen")
    require(not target["frozen"], f"account {to_account} is frozen")
    require(source["balance"] >= amount, f"insufficient funds in {from_account}: balance {source['balance']}")
    source["balance"] -= amount
    target["balance"] += amount
    txn_id = _record(state, from_account, to_account, amount, memo)
    return {"transaction_id": txn_id, "from_balance": source["balance"]}


def deposit(state: State, account_id: str, amount: int, memo: str) -> dict[str, Any]:
    account = _account(state, account_id)
    require(not account["frozen"], f"account {account_id} is frozen")
    account["balance"] += amount
    txn_id = _record(state, None, account_id, amount, memo)
    return {"transaction_id": txn_id, "balance": account["balance"]}


def freeze_account(state: State, account_id: str) -> dict[str, Any]:
    account = _account(state, account_id)
    require(not account["frozen"], f"account {account_id} is already frozen")
    account["frozen"] = True
    return {"account_id": account_id, "frozen": True}


def unfreeze_account(state: State, account_id: str) -> dict[str, Any]:
    account = _account(state, account_id)
    require(account["frozen"], f"account {account_id} is not frozen")
    account["frozen"] = False
    return {"account_id": account_id, "frozen": False}


_ACCOUNT = string("account id, e.g. AC-3301")
TOOLS: tuple[Tool, ...] = (
    tool(BACKEND, list_accounts, "Ids of an owner's accounts and whether each is frozen (no balances).",
         {"owner": string("account owner name")}, ("owner",), writes=False),
    tool(BACKEND, get_balance, "Current balance of an account.", {"account_id": _ACCOUNT}, ("account_id",),
         writes=False),
    tool(BACKEND, list_transactions, "Most recent transactions touching an account, newest first.",
         {"account_id": _ACCOUNT, "limit": integer("how many (default 5)", minimum=1)}, ("account_id",),
         writes=False),
    tool(BACKEND, transfer, "Move money between two unfrozen accounts; fails on insufficient funds.",
         {"from_account": _ACCOUNT, "to_account": _ACCOUNT, "amount": integer("whole dollars", minimum=1),
          "memo": string("reference shown on both statements")},
         ("from_account", "to_account", "amount", "memo"), writes=True),
    tool(BACKEND, deposit, "Pay money into an unfrozen account.",
         {"account_id": _ACCOUNT, "amount": integer("whole dollars", minimum=1), "memo": string("reference")},
         ("account_id", "amount", "memo"), writes=True),
    tool(BACKEND, freeze_account, "Freeze an account: no money can move in or out.", {"account_id": _ACCOUNT},
         ("account_id",), writes=True),
    tool(BACKEND, unfreeze_account, "Lift the freeze on an account.", {"account_id": _ACCOUNT}, ("account_id",),
         writes=True),
)
