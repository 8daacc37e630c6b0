"""Goal templates over the bank: pay from the fullest account, top up, reverse a payment, freeze and unfreeze,
deposit, consolidate, read statements."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Piece, Session, needs
from planfusion.tasks.tool_execution.scenarios.text import plural
from planfusion.tasks.tool_execution.scenarios.vocab import MEMOS


def _accounts(s: Session, owner: str | None = None) -> list[dict[str, Any]]:
    return [a for a in s.state["bank"]["accounts"].values() if owner is None or a["owner"] == owner]


def _owners(s: Session) -> list[str]:
    return sorted(dict.fromkeys(a["owner"] for a in _accounts(s)))


def fresh(s: Session, deltas: dict[str, int]) -> bool:
    """Moving these amounts (account -> change) leaves no account at a balance it already had in this
    conversation: money moved in and then the same sum out again reads as a request undoing another."""
    bank, known = s.state["bank"], len(s.initial["bank"]["transactions"])
    for account_id, delta in deltas.items():
        balance = s.initial["bank"]["accounts"][account_id]["balance"]
        seen = {balance}
        for txn in bank["transactions"][known:]:
            balance += (txn["to"] == account_id) * txn["amount"] - (txn["from"] == account_id) * txn["amount"]
            seen.add(balance)
        if bank["accounts"][account_id]["balance"] + delta in seen:
            return False
    return True


@needs(4)
def pay_from_fullest(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        live = sorted(((a["balance"], a["id"]) for a in _accounts(s, owner) if not a["frozen"]), reverse=True)
        if 2 <= len(live) <= min(3, s.budget - 2) and live[0][0] != live[1][0] and live[0][0] >= 20:
            options.append((owner, live[0]))
    if not options:
        return None
    owner, (top, source) = s.rng.choice(options)
    payees = [a["id"] for a in _accounts(s) if not a["frozen"] and a["owner"] != owner]
    if not payees:
        return None
    payee, amount, memo = s.rng.choice(payees), s.rng.randint(1, top // 10) * 10, s.rng.choice(MEMOS)
    if not fresh(s, {source: -amount, payee: amount}):
        return None
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    live_ids = [a["id"] for a in listed["accounts"] if not a["frozen"]]
    balances = s.parallel(f"{plural(len(live_ids), 'unfrozen account')}; checking each balance.",
                          [("get_balance", {"account_id": i}, (listed,)) for i in live_ids])
    fullest = max(balances, key=lambda o: o["balance"])
    paid = s.call(f"{fullest['account_id']} holds the most (${fullest['balance']}); paying ${amount} from it.", "transfer",
                  {"from_account": fullest["account_id"], "to_account": payee, "amount": amount, "memo": memo},
                  *balances)
    s.output("paid_from", fullest, "account_id", label="the account it was paid from")
    txn = s.output("payment_id", paid, "transaction_id", label="the payment's transaction id")
    left = s.output("balance_after_payment", paid, "from_balance", label=f"the balance left in {fullest['account_id']}")
    request = s.say(f"Pay ${amount} to account {payee} (memo '{memo}') from whichever of {owner}'s unfrozen accounts "
                    "has the highest balance.",
                    f"{owner} owes ${amount} for {memo} to {payee}. Use their fullest unfrozen account and tell me the "
                    "transaction id and what is left.",
                    f"Send ${amount} to {payee} for {owner}, memo '{memo}', taking it from the unfrozen account of "
                    "theirs with the most money.",
                    f"Please settle {owner}'s ${amount} payment for {memo} to {payee} out of their richest unfrozen "
                    "account; I need the transaction id and the remaining balance.")
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
    request = s.say(f"Top up account {low_id} to exactly ${target} from {high_id} (memo 'top-up').",
                    f"Move just enough from {high_id} into {low_id} that it holds ${target}; use memo 'top-up' and "
                    "confirm the balance.",
                    f"{low_id} should hold ${target}. Cover the difference from {high_id} with memo 'top-up'.",
                    f"Please bring {low_id} up to ${target} using money from {high_id} (memo 'top-up') and check the "
                    "result.")
    return Piece(request, f"Moved ${need} from {high_id}; {low_id} now holds ${balance}.")


@needs(2)
def reverse_payment(s: Session) -> Piece | None:
    bank = s.state["bank"]
    before = {t["id"] for t in s.initial["bank"]["transactions"]}  # never reverse a payment of this conversation
    undone = {t["memo"].removeprefix("reversal of ") for t in bank["transactions"] if t["memo"].startswith("reversal of ")}
    options = []
    for txn in bank["transactions"]:
        source, target = txn["from"], txn["to"]
        if (source is None or txn["id"] not in before or txn["id"] in undone or bank["accounts"][source]["frozen"]
                or bank["accounts"][target]["frozen"]):
            continue
        later = [t for t in bank["transactions"] if source in (t["from"], t["to"])]
        mine = [t for t in later if t["from"] == source and t["to"] == target]
        rank = len(later) - later.index(txn)
        if (mine[-1] is txn and rank <= 10 and bank["accounts"][target]["balance"] >= txn["amount"]
                and fresh(s, {source: txn["amount"], target: -txn["amount"]})):
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
    request = s.say(f"The last payment from {source} to {target} was a mistake. Send the same amount back with memo "
                    "'reversal of <transaction id>'.",
                    f"Reverse the most recent transfer from {source} to {target} (memo: 'reversal of' plus its id) and "
                    "tell me the amount.",
                    f"{source} paid {target} by mistake last time. Refund that payment from {target}, memo 'reversal "
                    "of <transaction id>'.",
                    f"Please undo the latest {source} to {target} payment by transferring the same sum back (memo "
                    "'reversal of <transaction id>') and tell me how much it was.")
    return Piece(request, f"Reversed {txn['id']}: ${amount} went back from {target} to {source} ({done['transaction_id']}).")


@needs(2)
def freeze_owner(s: Session) -> Piece | None:
    options = [o for o in _owners(s) if len(_accounts(s, o)) + 1 <= s.budget
               and all(not a["frozen"] and s.pristine("bank", "accounts", a["id"], "frozen") for a in _accounts(s, o))]
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
    request = s.say(f"{owner} reported a stolen card. Freeze every account they own.",
                    f"Freeze all of {owner}'s accounts and tell me how many there were.",
                    f"Possible fraud on {owner}'s side: lock down each of their accounts.",
                    f"Please put a freeze on every account belonging to {owner} and give me the count.")
    return Piece(request, f"Froze {plural(count, 'account')} of {owner}.")


@needs(2)
def deposit_to_owner(s: Session) -> Piece | None:
    options = [o for o in _owners(s) if sum(not a["frozen"] for a in _accounts(s, o)) == 1]
    if not options or s.budget < 2:
        return None
    owner, amount, memo = s.rng.choice(options), s.rng.randint(1, 30) * 25, s.rng.choice(MEMOS)
    if not fresh(s, {next(a["id"] for a in _accounts(s, owner) if not a["frozen"]): amount}):
        return None
    listed = s.call(f"Finding {owner}'s unfrozen account.", "list_accounts", {"owner": owner})
    account = next(a["id"] for a in listed["accounts"] if not a["frozen"])
    done = s.call(f"Depositing into {account}.", "deposit", {"account_id": account, "amount": amount, "memo": memo},
                  listed)
    balance = s.output("balance_after_deposit", done, "balance", label=f"the new balance of {account}")
    request = s.say(f"Deposit ${amount} ({memo}) into {owner}'s only unfrozen account.",
                    f"{owner} handed in ${amount} for {memo}; pay it into their unfrozen account and tell me the new "
                    "balance.",
                    f"Credit ${amount} to {owner}, memo '{memo}', on the one account of theirs that is not frozen.",
                    f"Please pay ${amount} in cash for {memo} into {owner}'s unfrozen account and report the balance.")
    return Piece(request, f"Deposited ${amount} into {account}; the balance is now ${balance}.")


@needs(4)
def consolidate(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        live = [a for a in _accounts(s, owner) if not a["frozen"]]
        if (len(live) == 2 and all(a["balance"] > 0 and s.pristine("bank", "accounts", a["id"]) for a in live)
                and live[0]["balance"] != live[1]["balance"] and len(_accounts(s, owner)) + 2 <= s.budget):
            options.append(owner)
    if not options or s.budget < 4:
        return None
    owner = s.rng.choice(options)
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    live = [a["id"] for a in listed["accounts"] if not a["frozen"]]
    balances = s.parallel("Two unfrozen accounts; checking both balances.",
                          [("get_balance", {"account_id": i}, (listed,)) for i in live])
    small, large = sorted(balances, key=lambda o: o["balance"])
    done = s.call(f"{small['account_id']} is the smaller (${small['balance']}); moving all of it to "
                  f"{large['account_id']}.", "transfer",
                  {"from_account": small["account_id"], "to_account": large["account_id"], "amount": small["balance"],
                   "memo": "consolidation"}, *balances)
    s.output("emptied", small, "account_id", label="the account emptied")
    moved = s.output("consolidated", done, "amount", where="arguments", label="the amount moved")
    request = s.say(f"{owner} wants one account instead of two: move the whole balance of their smaller unfrozen "
                    "account into the larger one (memo 'consolidation').",
                    f"Consolidate {owner}'s two unfrozen accounts, emptying the one with less money into the other, "
                    "memo 'consolidation'.",
                    f"Please sweep all the money from {owner}'s smaller unfrozen account into their bigger one (memo "
                    "'consolidation') and tell me how much moved.",
                    f"Empty whichever of {owner}'s unfrozen accounts holds less into the other; use memo "
                    "'consolidation'.")
    return Piece(request, f"Moved ${moved} from {small['account_id']} into {large['account_id']}, which emptied "
                          f"{small['account_id']}.")


@needs(3)
def unfreeze_deposit(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        frozen = [a for a in _accounts(s, owner) if a["frozen"]]
        if len(frozen) == 1 and s.pristine("bank", "accounts", frozen[0]["id"]):
            options.append((owner, frozen[0]["id"]))
    if not options or s.budget < 3:
        return None
    (owner, account_id), amount, memo = s.rng.choice(options), s.rng.randint(1, 20) * 20, s.rng.choice(MEMOS)
    if not fresh(s, {account_id: amount}):
        return None
    listed = s.call(f"Listing {owner}'s accounts to find the frozen one.", "list_accounts", {"owner": owner})
    account = next(a["id"] for a in listed["accounts"] if a["frozen"])
    s.call(f"{account} is frozen; lifting the freeze.", "unfreeze_account", {"account_id": account}, listed)
    done = s.call(f"Now depositing ${amount}.", "deposit", {"account_id": account, "amount": amount, "memo": memo},
                  listed)
    balance = s.output("balance_after_unfreeze", done, "balance", label=f"the new balance of {account}")
    request = s.say(f"{owner}'s card turned up again. Unfreeze their frozen account and deposit ${amount} ({memo}) "
                    "into it.",
                    f"Lift the freeze on {owner}'s frozen account, then pay in ${amount} with memo '{memo}' and tell me "
                    "the balance.",
                    f"Please reactivate the account {owner} has frozen and credit it with ${amount} for {memo}.",
                    f"{owner} is cleared: unfreeze the account of theirs that is frozen and deposit ${amount} "
                    f"('{memo}').")
    return Piece(request, f"Unfroze {account} and deposited ${amount}; it now holds ${balance}.")


@needs(2)
def largest_recent(s: Session) -> Piece | None:
    options = []
    for owner in _owners(s):
        mine = _accounts(s, owner)
        if len(mine) == 1:
            recent = [t["amount"] for t in s.state["bank"]["transactions"] if mine[0]["id"] in (t["from"], t["to"])][-3:]
            if len(recent) >= 2 and sorted(recent)[-1] != sorted(recent)[-2]:
                options.append(owner)
    if not options or s.budget < 2:
        return None
    owner = s.rng.choice(options)
    listed = s.call(f"Finding {owner}'s account.", "list_accounts", {"owner": owner})
    account = listed["accounts"][0]["id"]
    history = s.call(f"Reading the last three transactions of {account}.", "list_transactions",
                     {"account_id": account, "limit": 3}, listed)
    i = max(range(len(history["transactions"])), key=lambda k: history["transactions"][k]["amount"])
    s.output("largest_txn", history, "transactions", i, "id", label="the largest recent transaction")
    amount = s.output("largest_txn_amount", history, "transactions", i, "amount", label="its amount")
    request = s.say(f"Of the last three transactions on {owner}'s account, which was the largest?",
                    f"Look at {owner}'s three most recent transactions and tell me the biggest one and its amount.",
                    f"{owner} asks about a large recent movement on their account. Which of the last three "
                    "transactions was biggest?",
                    f"Please check the latest three transactions of {owner}'s account and name the largest.")
    return Piece(request, f"The largest of the last three on {account} is {history['transactions'][i]['id']}, "
                          f"for ${amount}.")


@needs(2)
def transfer_and_check(s: Session) -> Piece | None:
    live = [a for a in _accounts(s) if not a["frozen"]]
    options = [(a["id"], b["id"]) for a in live for b in live if a["owner"] != b["owner"] and a["balance"] >= 40]
    if not options or s.budget < 2:
        return None
    source, target = s.rng.choice(options)
    amount, memo = s.rng.randint(1, s.state["bank"]["accounts"][source]["balance"] // 40) * 10, s.rng.choice(MEMOS)
    if not fresh(s, {source: -amount, target: amount}):
        return None
    sent = s.call(f"Transferring ${amount} from {source} to {target}.", "transfer",
                  {"from_account": source, "to_account": target, "amount": amount, "memo": memo})
    got = s.call(f"Done ({sent['transaction_id']}); now the balance of {target}.", "get_balance", {"account_id": target})
    left = s.output("sender_balance", sent, "from_balance", label=f"the balance of {source}")
    now = s.output("receiver_balance", got, "balance", label=f"the balance of {target}")
    request = s.say(f"Transfer ${amount} from {source} to {target} (memo '{memo}') and tell me both balances "
                    "afterwards.",
                    f"Send ${amount} for {memo} from {source} to {target}; what do the two accounts hold then?",
                    f"Please move ${amount} from {source} over to {target}, memo '{memo}', and report both balances.",
                    f"{source} pays {target} ${amount} ({memo}). Make the transfer and give me the new balances.")
    return Piece(request, f"Sent ${amount} ({sent['transaction_id']}); {source} now holds ${left} and {target} "
                          f"${now}.")


def balance(s: Session) -> Piece | None:
    account = s.rng.choice([a for a in sorted(s.state["bank"]["accounts"])
                            if not s.repeats("get_balance", {"account_id": a})])
    got = s.call(f"Checking {account}.", "get_balance", {"account_id": account})
    value = s.output(f"{account}_balance", got, "balance", label=f"the balance of {account}")
    request = s.say(f"What is the balance of {account}?", f"How much money is in {account}?",
                    f"Check the balance of {account} for me.")
    return Piece(request, f"{account} holds ${value}.")


def account_count(s: Session) -> Piece | None:
    owner = s.rng.choice([o for o in _owners(s) if not s.repeats("list_accounts", {"owner": o})])
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    count = s.output("accounts", listed, "accounts", extract="len", label=f"the number of {owner}'s accounts")
    request = s.say(f"How many accounts does {owner} have?", f"Count {owner}'s bank accounts.",
                    f"With how many accounts is {owner} registered?")
    return Piece(request, f"{owner} has {plural(count, 'account')}.")


def last_transaction(s: Session) -> Piece | None:
    busy = sorted({a for t in s.state["bank"]["transactions"] for a in (t["from"], t["to"]) if a is not None})
    options = [a for a in busy if not s.repeats("list_transactions", {"account_id": a, "limit": 1})]
    if not options:
        return None
    account = s.rng.choice(options)
    history = s.call(f"Reading the latest transaction of {account}.", "list_transactions",
                     {"account_id": account, "limit": 1})
    txn = s.output("last_transaction", history, "transactions", 0, "id", label=f"the latest transaction of {account}")
    request = s.say(f"What was the last transaction on {account}?", f"Give me the id of the most recent transaction "
                    f"touching {account}.", f"Which transaction hit {account} last?")
    return Piece(request, f"The latest transaction on {account} is {txn}.")


TEMPLATES = (pay_from_fullest, top_up, reverse_payment, freeze_owner, deposit_to_owner, consolidate, unfreeze_deposit,
             largest_recent, transfer_and_check)
FILLERS = (balance, account_count, last_transaction)
