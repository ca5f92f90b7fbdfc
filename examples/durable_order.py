"""A durable order pipeline: kill it (Ctrl-C or ``kill -9``) and start it again to watch it resume.

    python examples/durable_order.py            # run (or resume) order 42
    python examples/durable_order.py --fresh    # forget earlier runs and start over

Every node is a DBOS step recorded in ``durable_order.sqlite`` next to this file. Each step prints
when it runs; after a restart, the steps that had finished are not run (nor printed) again, and
the payment wait sleeps only for what was left of it. ``--crash-at NODE`` kills the process with
SIGKILL as that node starts, which is what the test suite does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from hypergraph import DBOSAsyncRunner, Graph, node
from hypergraph_dbos import durable_sleep

DATABASE = Path(__file__).with_name("durable_order.sqlite")
CRASH_AT = sys.argv[sys.argv.index("--crash-at") + 1] if "--crash-at" in sys.argv else None


def starting(name: str) -> None:
    if name == CRASH_AT:
        print(f"killing the process in {name}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def ran(name: str, detail: str) -> None:
    print(f"ran {name}: {detail}", flush=True)


@node(output_name="items")
def load_order(order_id: int) -> list[str]:
    starting("load_order")
    items = ["keyboard", "mouse"] if order_id % 2 == 0 else ["monitor"]
    ran("load_order", f"{len(items)} items")
    return items


@node(output_name="reserved")
async def reserve_stock(items: list[str]) -> list[str]:
    starting("reserve_stock")
    ran("reserve_stock", ", ".join(items))
    return [f"{item}@shelf-{len(item)}" for item in items]


@node(output_name="charged")
async def charge_card(reserved: list[str]) -> float:
    starting("charge_card")
    ran("charge_card", f"{len(reserved)} items")
    return 19.5 * len(reserved)


@node(output_name="paid")
async def wait_for_settlement(charged: float) -> bool:
    starting("wait_for_settlement")
    await durable_sleep(1.0)  # a restart during the wait sleeps only the rest of it
    ran("wait_for_settlement", f"{charged:.2f} settled")
    return True


@node(output_name="receipt")
def ship(reserved: list[str], paid: bool) -> str:
    starting("ship")
    ran("ship", f"{len(reserved)} parcels")
    return f"shipped {', '.join(reserved)} ({'paid' if paid else 'unpaid'})"


ORDER = Graph([load_order, reserve_stock, charge_card, wait_for_settlement, ship], name="order")


async def main() -> None:
    if "--fresh" in sys.argv:
        for stale in DATABASE.parent.glob(DATABASE.name + "*"):
            stale.unlink()
    runner = DBOSAsyncRunner(system_database_url=f"sqlite:///{DATABASE}", graphs=[ORDER])
    result = await runner.run(ORDER, {"order_id": 42}, workflow_id="order-42")
    print(f"receipt: {result.values['receipt']}")


if __name__ == "__main__":
    asyncio.run(main())
