"""Goal templates over the bank: pay from the fullest account, top up, reverse a payment, freeze, deposit."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Piece, Session, needs
from planfusion.tasks.tool_execution.scenarios.vocab import MEMOS


def _accounts(s: Session, owner: str | None = None) -> list[dict[str, Any]]:
    return [a for a in s.state["bank"]["accounts"].values() if owner is None or a["owner"] == owner]


def _owners(s: Session) -> list[str]:
    return sorted(dict.fromkeys(a["owner"] for a in _accounts(s)))


@needs(4)
def pay_from_fullest(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        live = sorted(a["balance"] for a in _accounts(s, owner) if not a["frozen"])
        if 2 <= len(live) <= min(3, s.budget - 2) and live[-1] != live[-2] and live[-1] >= 20:
            options.append((owner, live[-1]))
    payees = [a["id"] for a in _accounts(s) if not a["frozen"]]
    if not options:
        return None
    owner, top = s.rng.choice(options)
    payees = [p for p in payees if s.state["bank"]["accounts"][p]["owner"] != owner]
    if not payees:
        return None
    payee, amount, memo = s.rng.choice(payees), s.rng.randint(1, top // 10) * 10, s.rng.choice(MEMOS)
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    live_ids = [a["id"] for a in listed["accounts"] if not a["frozen"]]
    balances = s.parallel(f"{len(live_ids)} unfrozen account(s); checking each balance.",
                          [("get_balance", {"account_id": i}, (listed,)) for i in live_ids])
    fullest = max(balances, key=lambda o: o["balance"])
    paid = s.call(f"{fullest['account_id']} holds the most (${fullest['balance']}); paying ${amount} from it.", "transfer",
                  {"from_account": fullest["account_id"], "to_account": payee, "amount": amount, "memo": memo},
                  *balances)
    s.output("paid_from", fullest, "account_id", label="the account it was paid from")
    txn = s.output("payment_id", paid, "transaction_id", label="the payment's transaction id")
    left = s.output("balance_after_payment", paid, "from_balance", label=f"the balance left in {fullest['account_id']}")
    request = s.rng.choice((f"Pay ${amount} to account {payee} (memo '{memo}') from whichever of {owner}'s unfrozen "
                            "accounts has the highest balance.",
                            f"{owner} owes ${amount} for {memo} to {payee}. Use their fullest unfrozen account and "
                            "tell me the transaction id and what is left."))
    return Piece(request, f"Paid ${amount} from {fullest['account_id']} to {payee} ({txn}); "
                          f"${left} remains in {fullest['account_id']}.")


@needs(3)
def top_up(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        live = [a for a in _accounts(s, owner) if not a["frozen"] and s.pristine("bank", "accounts", a["id"], "balance")]
        for low in live:  # untouched so far: a top-up must not move back money this conversation moved
            for high in live:
                target = (low["balance"] // 100 + 2) * 100
                if low is not high and high["balance"] >= target - low["balance"]:
                    options.append((low["id"], high["id"], target))
    if not options or s.budget < 3:
        return None
    low_id, high_id, target = s.rng.choice(options)
    before = s.call(f"Checking the balance of {low_id}.", "get_balance", {"account_id": low_id})
    need = target - before["balance"]
    s.call(f"It has ${before['balance']}; moving ${need} from {high_id} to reach ${target}.", "transfer",
           {"from_account": high_id, "to_account": low_id, "amount": need, "memo": "top-up"}, before)
    after = s.call(f"Confirming the new balance of {low_id}.", "get_balance", {"account_id": low_id})
    balance = s.output("topped_up_balance", after, "balance", label=f"the new balance of {low_id}")
    request = s.rng.choice((f"Top up account {low_id} to exactly ${target} from {high_id} (memo 'top-up').",
                            f"Move just enough from {high_id} into {low_id} that it holds ${target}; use memo 'top-up' "
                            "and confirm the balance."))
    return Piece(request, f"Moved ${need} from {high_id}; {low_id} now holds ${balance}.")


@needs(2)
def reverse_payment(s: Session) -> Piece | None:
    bank = s.state["bank"]
    before = {t["id"] for t in s.initial["bank"]["transactions"]}  # never reverse a payment of this conversation
    reversed_ = {t["memo"].removeprefix("reversal of ") for t in bank["transactions"] if t["memo"].startswith("reversal of ")}
    options = []
    for txn in bank["transactions"]:
        source, target = txn["from"], txn["to"]
        if source is None or txn["id"] not in before or txn["id"] in reversed_ or bank["accounts"][source]["frozen"] or bank["accounts"][target]["frozen"]:
            continue
        later = [t for t in bank["transactions"] if source in (t["from"], t["to"])]
        mine = [t for t in later if t["from"] == source and t["to"] == target]
        rank = len(later) - later.index(txn)
        if mine[-1] is txn and rank <= 10 and bank["accounts"][target]["balance"] >= txn["amount"]:
            options.append((source, target, rank))
    if not options or s.budget < 2:
        return None
    source, target, rank = s.rng.choice(options)
    limit = max(rank, s.rng.choice((5, 10)))
    history = s.call(f"Reading the recent transactions of {source}.", "list_transactions",
                     {"account_id": source, "limit": limit})
    i = next(i for i, t in enumerate(history["transactions"]) if t["from"] == source and t["to"] == target)
    txn = history["transactions"][i]
    done = s.call(f"The latest payment from {source} to {target} is {txn['id']} for ${txn['amount']}; sending it back.",
                  "transfer", {"from_account": target, "to_account": source, "amount": txn["amount"],
                               "memo": f"reversal of {txn['id']}"}, history)
    s.output("reversed", history, "transactions", i, "id", label="the reversed transaction")
    amount = s.output("reversed_amount", done, "amount", where="arguments", label="the amount sent back")
    request = s.rng.choice((f"The last payment from {source} to {target} was a mistake. Send the same amount back "
                            "with memo 'reversal of <transaction id>'.",
                            f"Reverse the most recent transfer from {source} to {target} (memo: 'reversal of' plus its "
                            "id) and tell me the amount."))
    return Piece(request, f"Reversed {txn['id']}: ${amount} went back from {target} to {source} ({done['transaction_id']}).")


@needs(2)
def freeze_owner(s: Session) -> Piece | None:
    options = [o for o in _owners(s)
               if all(not a["frozen"] for a in _accounts(s, o)) and len(_accounts(s, o)) + 1 <= s.budget]
    if not options:
        return None
    owner = s.rng.choice(options)
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    if len(listed["accounts"]) > 1 and s.rng.random() < 0.4:
        s.parallel("Freezing all of them.", [("freeze_account", {"account_id": a["id"]}, (listed,))
                                             for a in listed["accounts"]])
    else:
        for a in listed["accounts"]:
            s.call(f"Freezing {a['id']}.", "freeze_account", {"account_id": a["id"]}, listed)
    count = s.output("frozen_accounts", listed, "accounts", extract="len",
                     label=f"the number of {owner}'s accounts frozen")
    request = s.rng.choice((f"{owner} reported a stolen card. Freeze every account they own.",
                            f"Freeze all of {owner}'s accounts and tell me how many there were."))
    return Piece(request, f"Froze {count} account(s) of {owner}.")


@needs(2)
def deposit_to_owner(s: Session) -> Piece | None:
    options = [o for o in _owners(s) if sum(not a["frozen"] for a in _accounts(s, o)) == 1]
    if not options or s.budget < 2:
        return None
    owner, amount, memo = s.rng.choice(options), s.rng.randint(1, 30) * 25, s.rng.choice(MEMOS)
    listed = s.call(f"Finding {owner}'s unfrozen account.", "list_accounts", {"owner": owner})
    account = next(a["id"] for a in listed["accounts"] if not a["frozen"])
    done = s.call(f"Depositing into {account}.", "deposit", {"account_id": account, "amount": amount, "memo": memo},
                  listed)
    balance = s.output("balance_after_deposit", done, "balance", label=f"the new balance of {account}")
    request = s.rng.choice((f"Deposit ${amount} ({memo}) into {owner}'s only unfrozen account.",
                            f"{owner} handed in ${amount} for {memo}; pay it into their unfrozen account and tell me "
                            "the new balance."))
    return Piece(request, f"Deposited ${amount} into {account}; the balance is now ${balance}.")


def balance(s: Session) -> Piece | None:
    account = s.rng.choice([a for a in sorted(s.state["bank"]["accounts"])
                            if not s.repeats("get_balance", {"account_id": a})])
    got = s.call(f"Checking {account}.", "get_balance", {"account_id": account})
    value = s.output(f"{account}_balance", got, "balance", label=f"the balance of {account}")
    return Piece(f"What is the balance of {account}?", f"{account} holds ${value}.")


TEMPLATES = (pay_from_fullest, top_up, reverse_payment, freeze_owner, deposit_to_owner)
FILLERS = (balance,)
