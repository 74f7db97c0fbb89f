"""Demo data for `erpgraph dev`: a small bicycle manufacturer.

Two warehouses, 20 customers with contacts, 50 items over three BOM levels
(finished bikes -> frames, wheels and kits -> bought parts) and opening stock.
Everything goes through the domain services, so events are written as usual.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.contacts import NewContact
from domain.crm.services import NewCustomer, create_customer
from domain.inventory.models import Warehouse
from domain.inventory.services import (
    NewBomLine,
    NewItem,
    StockAdjustment,
    adjust_stock,
    create_item,
    create_warehouse,
    set_bom,
)
from domain.purchasing.suppliers import NewSupplier, create_supplier
from domain.shared.db import SessionMaker

ACTOR = "demo"
WAREHOUSES = (("MAIN", "Main plant, Leipzig", True), ("EAST", "East depot, Dresden", False))
# Serialises two first starts racing on one database.
DEMO_LOCK_KEY = 0x44454D4F  # "DEMO"

D = Decimal


@dataclass(frozen=True)
class Raw:
    sku: str
    name: str
    uom: str
    cost: str
    lead: int
    safety: str = "0"
    lot: tuple[str, ...] = ()  # ("FIXED", size) or ("MIN", minimum, multiple)


@dataclass(frozen=True)
class Made:
    sku: str
    name: str
    kind: str
    procurement: str
    lead: int
    labour: str
    lines: tuple[tuple[str, str], ...]  # (component sku, quantity per output unit)
    margin: str = "0"  # list price = cost * (1 + margin); 0 = not sold on its own
    scrap: str = "0"
    lot: tuple[str, ...] = ()


RAW = (
    Raw("RM-101", "Aluminium tube 6061, 35 mm", "m", "8.40", 21, "60", ("MIN", "60", "6")),
    Raw("RM-102", "Aluminium tube 6061, 28 mm", "m", "6.10", 21, "60", ("MIN", "60", "6")),
    Raw("RM-103", "Chromoly steel tube 4130, 32 mm", "m", "11.75", 28, "30", ("MIN", "30", "6")),
    Raw("RM-104", "Welding wire ER4043, 1.2 mm", "kg", "14.20", 10, "5"),
    Raw("RM-105", "Powder coat, jet black", "kg", "18.50", 14, "20", ("MIN", "20", "20")),
    Raw("RM-106", "Powder coat, signal blue", "kg", "19.30", 14, "20", ("MIN", "20", "20")),
    Raw("RM-107", "Rim 622 double-wall, 32 h", "pcs", "17.90", 30, "40", ("MIN", "50", "10")),
    Raw("RM-108", "Rim 406 (20 in), 28 h", "pcs", "11.40", 30, "20", ("MIN", "50", "10")),
    Raw("RM-109", "Spoke stainless 2.0 mm", "pcs", "0.32", 21, "1000", ("FIXED", "2000")),
    Raw("RM-110", "Spoke nipple, brass", "pcs", "0.06", 21, "1000", ("FIXED", "2000")),
    Raw("RM-111", "Front hub 100 mm, 32 h", "pcs", "12.60", 30, "20"),
    Raw("RM-112", "Rear hub 8-speed, 32 h", "pcs", "24.80", 30, "20"),
    Raw("RM-113", "Tyre 700x40C reflective", "pcs", "13.20", 14, "40", ("MIN", "50", "10")),
    Raw("RM-114", "Tyre 20x1.75", "pcs", "8.90", 14, "20", ("MIN", "50", "10")),
    Raw("RM-115", "Inner tube 700C, presta", "pcs", "3.10", 14, "50"),
    Raw("RM-116", "Inner tube 20 in, schrader", "pcs", "2.60", 14, "30"),
    Raw("RM-117", "Chain 8-speed, 116 links", "pcs", "9.80", 21, "30"),
    Raw("RM-118", "Cassette 8-speed 11-32T", "pcs", "19.40", 21, "20"),
    Raw("RM-119", "Crankset 38T, 170 mm", "pcs", "34.50", 28, "15"),
    Raw("RM-120", "Bottom bracket BSA 68 mm", "pcs", "11.20", 28, "15"),
    Raw("RM-121", "Brake cable, stainless", "m", "0.85", 10, "200"),
    Raw("RM-122", "Shift cable, stainless", "m", "0.70", 10, "200"),
    Raw("RM-123", "Cable housing 5 mm", "m", "1.15", 10, "150"),
    Raw("RM-124", "V-brake set, front and rear", "pcs", "16.90", 21, "10"),
    Raw("RM-125", "Hydraulic disc brake set", "pcs", "62.00", 35, "10"),
    Raw("RM-126", "Saddle, comfort", "pcs", "14.80", 21, "20"),
    Raw("RM-127", "Handlebar 620 mm, aluminium", "pcs", "12.30", 21, "20"),
    Raw("RM-128", "Rear hub motor 250 W, 36 V", "pcs", "189.00", 56, "5"),
    Raw("RM-129", "Battery pack 36 V 13 Ah", "pcs", "245.00", 56, "5"),
    Raw("RM-130", "Hex bolt M5x12, stainless", "pcs", "0.09", 7, "500", ("FIXED", "5000")),
)

SEMI = (
    Made("SF-201", "City frame, welded and coated black", "SEMI_FINISHED", "MAKE", 4, "38.00",
         (("RM-101", "1.8"), ("RM-102", "1.2"), ("RM-104", "0.05"), ("RM-105", "0.4")),
         scrap="0.02"),
    Made("SF-202", "Trekking frame, welded and coated blue", "SEMI_FINISHED", "MAKE", 4, "42.00",
         (("RM-101", "2.0"), ("RM-102", "1.3"), ("RM-104", "0.06"), ("RM-106", "0.45")),
         margin="0.9", scrap="0.02"),
    Made("SF-203", "Cargo frame, steel (subcontracted)", "SEMI_FINISHED", "SUBCONTRACT", 14,
         "95.00", (("RM-103", "4.5"), ("RM-105", "0.8")), lot=("FIXED", "25")),
    Made("SF-204", "Kids frame 20 in (subcontracted)", "SEMI_FINISHED", "SUBCONTRACT", 12,
         "22.00", (("RM-102", "1.4"), ("RM-106", "0.3")), lot=("MIN", "20", "10")),
    Made("SF-205", "Front wheel 700C", "SEMI_FINISHED", "MAKE", 2, "9.50",
         (("RM-107", "1"), ("RM-109", "32"), ("RM-110", "32"), ("RM-111", "1"),
          ("RM-113", "1"), ("RM-115", "1")), margin="0.6"),
    Made("SF-206", "Rear wheel 700C, 8-speed", "SEMI_FINISHED", "MAKE", 2, "11.00",
         (("RM-107", "1"), ("RM-109", "32"), ("RM-110", "32"), ("RM-112", "1"),
          ("RM-113", "1"), ("RM-115", "1"), ("RM-118", "1")), margin="0.6"),
    Made("SF-207", "Front wheel 20 in", "SEMI_FINISHED", "MAKE", 2, "7.50",
         (("RM-108", "1"), ("RM-109", "28"), ("RM-110", "28"), ("RM-111", "1"),
          ("RM-114", "1"), ("RM-116", "1"))),
    Made("SF-208", "Rear wheel 20 in", "SEMI_FINISHED", "MAKE", 2, "8.50",
         (("RM-108", "1"), ("RM-109", "28"), ("RM-110", "28"), ("RM-112", "1"),
          ("RM-114", "1"), ("RM-116", "1"))),
    Made("SF-209", "E-drive rear wheel 700C", "SEMI_FINISHED", "MAKE", 3, "16.00",
         (("RM-107", "1"), ("RM-109", "32"), ("RM-110", "32"), ("RM-128", "1"),
          ("RM-113", "1"), ("RM-115", "1"))),
    Made("SF-210", "Drivetrain kit 8-speed", "SEMI_FINISHED", "MAKE", 1, "6.00",
         (("RM-117", "1"), ("RM-119", "1"), ("RM-120", "1"), ("RM-122", "2.2"),
          ("RM-123", "1.8"))),
    Made("SF-211", "V-brake kit with cables", "SEMI_FINISHED", "MAKE", 1, "4.00",
         (("RM-124", "1"), ("RM-121", "3.0"), ("RM-123", "2.0"))),
    Made("SF-212", "Cockpit assembly", "SEMI_FINISHED", "MAKE", 1, "5.00",
         (("RM-127", "1"), ("RM-130", "4"), ("RM-121", "0.5"))),
)

FINISHED = (
    Made("FG-301", "City bike Urban 8", "FINISHED", "MAKE", 3, "45.00",
         (("SF-201", "1"), ("SF-205", "1"), ("SF-206", "1"), ("SF-210", "1"), ("SF-211", "1"),
          ("SF-212", "1"), ("RM-126", "1"), ("RM-130", "6")), margin="0.85",
         lot=("MIN", "10", "5")),
    Made("FG-302", "Trekking bike Tour 8", "FINISHED", "MAKE", 3, "52.00",
         (("SF-202", "1"), ("SF-205", "1"), ("SF-206", "1"), ("SF-210", "1"), ("SF-212", "1"),
          ("RM-125", "1"), ("RM-126", "1"), ("RM-130", "8")), margin="0.8",
         lot=("MIN", "10", "5")),
    Made("FG-303", "E-bike Volt City", "FINISHED", "MAKE", 5, "78.00",
         (("SF-201", "1"), ("SF-205", "1"), ("SF-209", "1"), ("SF-210", "1"), ("SF-212", "1"),
          ("RM-125", "1"), ("RM-129", "1"), ("RM-126", "1")), margin="0.7",
         lot=("FIXED", "20")),
    Made("FG-304", "E-bike Volt Tour", "FINISHED", "MAKE", 5, "84.00",
         (("SF-202", "1"), ("SF-205", "1"), ("SF-209", "1"), ("SF-210", "1"), ("SF-212", "1"),
          ("RM-125", "1"), ("RM-129", "1"), ("RM-126", "1")), margin="0.7",
         lot=("FIXED", "20")),
    Made("FG-305", "Cargo bike Haul", "FINISHED", "MAKE", 7, "110.00",
         (("SF-203", "1"), ("SF-207", "1"), ("SF-206", "1"), ("SF-210", "1"), ("SF-212", "1"),
          ("RM-125", "1"), ("RM-126", "1"), ("RM-130", "12")), margin="0.75"),
    Made("FG-306", "Kids bike Sprout 20", "FINISHED", "MAKE", 2, "24.00",
         (("SF-204", "1"), ("SF-207", "1"), ("SF-208", "1"), ("SF-211", "1"), ("RM-127", "1"),
          ("RM-126", "1"), ("RM-117", "1"), ("RM-119", "1")), margin="0.9",
         lot=("MIN", "20", "10")),
    Made("FG-307", "Tour frameset (spare)", "FINISHED", "MAKE", 1, "6.00",
         (("SF-202", "1"), ("RM-130", "2")), margin="1.1"),
    Made("FG-308", "Tour wheelset 700C (spare)", "FINISHED", "MAKE", 1, "4.00",
         (("SF-205", "1"), ("SF-206", "1")), margin="0.95"),
)

CUSTOMERS = (
    ("C-1001", "Velo Haus Berlin GmbH", "Retail", "berlin"),
    ("C-1002", "Radsport Meier KG", "Retail", "meier"),
    ("C-1003", "Cycle Centre Hamburg", "Retail", "cch"),
    ("C-1004", "Fahrrad Kontor Köln", "Retail", "kontor"),
    ("C-1005", "Alpenrad AG", "Distributor", "alpenrad"),
    ("C-1006", "Nordic Bikes ApS", "Distributor", "nordicbikes"),
    ("C-1007", "BeNeLux Cycle Supply B.V.", "Distributor", "bcs"),
    ("C-1008", "Polski Rower Sp. z o.o.", "Distributor", "polskirower"),
    ("C-1009", "Stadtwerke Leipzig (Fleet)", "Corporate fleet", "swl"),
    ("C-1010", "Deutsche Kurierdienst GmbH", "Corporate fleet", "dkd"),
    ("C-1011", "Bäckerei Sonnenschein Lieferdienst", "Corporate fleet", "sonnenschein"),
    ("C-1012", "Campus Mobil e.V.", "Rental", "campusmobil"),
    ("C-1013", "Inselrad Rügen", "Rental", "inselrad"),
    ("C-1014", "Harz Bike Verleih", "Rental", "harzbike"),
    ("C-1015", "E-Motion Store Dresden", "Retail", "emotion"),
    ("C-1016", "Zweirad Schulze", "Retail", "schulze"),
    ("C-1017", "Cargo Culture Leipzig", "Retail", "cargoculture"),
    ("C-1018", "Tour de Jena Bikes", "Retail", "tdj"),
    ("C-1019", "Austria Cycle Trading GmbH", "Distributor", "act"),
    ("C-1020", "Kinderrad Welt", "Retail", "kinderrad"),
)
FIRST = ("Anna", "Jonas", "Lea", "Felix", "Mia", "Lukas", "Sophie", "Paul", "Marie", "Jan",
         "Hanna", "Tim", "Clara", "Erik", "Laura", "Niklas", "Emma", "David", "Greta", "Ole")
LAST = ("Schmidt", "Müller", "Weber", "Fischer", "Wagner", "Becker", "Hoffmann", "Koch",
        "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Hofmann", "Krüger")
TITLES = ("Purchasing", "Owner", "Accounts payable", "Workshop lead", "Fleet manager")
TAGS = ("key-account", "ebike", "cargo", "export", "new", "seasonal")
CREDIT_LIMITS = ("0", "5000", "10000", "15000", "25000", "50000", "100000")
PAYMENT_TERMS = (0, 14, 30, 30, 45, 60)
TUBES = {"RM-101", "RM-102", "RM-103"}  # cut from bar stock: 3% offcut on every BOM line
# default supplier of every bought or subcontracted item (firmed planned purchases go to it)
# (code, name, e-mail domain, payment terms, purchasing contact): skus
SUPPLIERS = {
    ("SROHR", "Sächsische Rohrwerke GmbH", "rohrwerke", 30, "Katrin Seidel"):
        ("RM-101", "RM-102", "RM-103", "RM-104"),
    ("PLNORD", "Pulverlack Nord GmbH", "pulverlack-nord", 30, "Jens Hansen"): ("RM-105", "RM-106"),
    ("LAUFRAD", "Laufrad Komponenten AG", "laufrad", 45, "Monika Brandt"):
        ("RM-107", "RM-108", "RM-109", "RM-110", "RM-111", "RM-112"),
    ("SCHWALM", "Reifen Schwalm KG", "schwalm", 30, "Uwe Lange"): ("RM-113", "RM-114", "RM-115", "RM-116"),
    ("DRIVETRAIN", "Drivetrain Europe B.V.", "drivetrain", 60, "Pieter de Vries"):
        ("RM-117", "RM-118", "RM-119", "RM-120", "RM-124", "RM-125"),
    ("KABELZUG", "Kabel & Zug GmbH", "kabelzug", 14, "Sabine Roth"): ("RM-121", "RM-122", "RM-123"),
    ("COCKPIT", "Cockpit Parts s.r.o.", "cockpit-parts", 30, "Jana Novak"): ("RM-126", "RM-127", "RM-130"),
    ("EANTRIEB", "E-Antrieb Systems GmbH", "e-antrieb", 30, "Tobias Krause"): ("RM-128", "RM-129"),
    ("RBVOGT", "Rahmenbau Vogtland GmbH", "rahmenbau-vogtland", 30, "Heike Vogel"): ("SF-203", "SF-204"),
}
SUPPLIER_OF = {sku: supplier[0] for supplier, skus in SUPPLIERS.items() for sku in skus}


async def load_demo(sessionmaker: SessionMaker) -> bool:
    """Load the demo company in one transaction; False if it is already there."""
    async with sessionmaker.begin() as session:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEMO_LOCK_KEY})
        if await demo_present(session):
            return False
        rng = random.Random(42)
        warehouses = [
            (await create_warehouse(session, code, name, default)).id
            for code, name, default in WAREHOUSES
        ]
        await _customers(session, rng)
        suppliers = await _suppliers(session)
        costs = await _items(session, suppliers)
        await _opening_stock(session, rng, costs, warehouses)
    return True


async def demo_present(session: AsyncSession) -> bool:
    codes = [code for code, _, _ in WAREHOUSES]
    found = await session.execute(select(Warehouse.id).where(Warehouse.code.in_(codes)).limit(1))
    return found.first() is not None


async def _customers(session: AsyncSession, rng: random.Random) -> None:
    for code, name, segment, domain in CUSTOMERS:
        contacts = []
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            contacts.append(
                NewContact(
                    name=f"{first} {last}",
                    email=f"{_ascii(first)}.{_ascii(last)}@{domain}.example".lower(),
                    phone=f"+49 {rng.randint(30, 991)} {rng.randint(100000, 9999999)}",
                    title=rng.choice(TITLES),
                )
            )
        await create_customer(
            session,
            NewCustomer(
                code=code,
                name=name,
                email=f"orders@{domain}.example",
                phone=f"+49 {rng.randint(30, 991)} {rng.randint(100000, 9999999)}",
                segment=segment,
                tags=sorted(rng.sample(TAGS, rng.randint(0, 2))),
                contacts=contacts,
                payment_terms_days=rng.choice(PAYMENT_TERMS),
                credit_limit=D(rng.choice(CREDIT_LIMITS)),
            ),
            ACTOR,
        )


async def _suppliers(session: AsyncSession) -> dict[str, int]:
    """The suppliers of the bought and subcontracted items; id by code."""
    ids: dict[str, int] = {}
    for code, name, domain, terms, contact in SUPPLIERS:
        first, last = contact.split(" ", 1)
        supplier = await create_supplier(
            session,
            NewSupplier(
                code=code, name=name, email=f"sales@{domain}.example", payment_terms_days=terms,
                contacts=[NewContact(
                    name=contact, title="Sales",
                    email=f"{_ascii(first)}.{_ascii(last)}@{domain}.example".lower().replace(" ", ""),
                )],
            ),
            ACTOR,
        )
        ids[code] = supplier.id
    return ids


def _ascii(name: str) -> str:
    return name.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


def _lot(lot: tuple[str, ...]) -> dict[str, object]:
    if not lot:
        return {"lot_sizing": "LOT_FOR_LOT"}
    if lot[0] == "FIXED":
        return {"lot_sizing": "FIXED_ORDER_QUANTITY", "fixed_lot_size": D(lot[1])}
    return {"lot_sizing": "MIN_MULTIPLE", "min_order_quantity": D(lot[1]), "lot_multiple": D(lot[2])}


def _money(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


async def _items(session: AsyncSession, suppliers: dict[str, int]) -> dict[int, Decimal]:
    """Create all items bottom-up with rolled-up standard costs; returns cost by item id."""
    ids: dict[str, int] = {}
    costs: dict[str, Decimal] = {}
    for raw in RAW:
        item = await create_item(
            session,
            NewItem(
                sku=raw.sku, name=raw.name, kind="RAW_MATERIAL", procurement="BUY", uom=raw.uom,
                lead_time_days=raw.lead, safety_stock=D(raw.safety), standard_cost=D(raw.cost),
                default_supplier_id=suppliers[SUPPLIER_OF[raw.sku]], **_lot(raw.lot),  # type: ignore[arg-type]
            ),
            ACTOR,
        )
        ids[raw.sku], costs[raw.sku] = item.id, D(raw.cost)
    for made in (*SEMI, *FINISHED):
        rolled = sum((D(qty) * costs[sku] for sku, qty in made.lines), D(0))
        cost = _money((rolled + D(made.labour)) / (1 - D(made.scrap)))
        price = _money(cost * (1 + D(made.margin))) if D(made.margin) else D(0)
        item = await create_item(
            session,
            NewItem(
                sku=made.sku, name=made.name, kind=made.kind, procurement=made.procurement,
                uom="pcs", lead_time_days=made.lead, scrap_rate=D(made.scrap),
                list_price=price, standard_cost=cost,
                safety_stock=D(5) if made.kind == "FINISHED" else D(0),
                default_supplier_id=suppliers.get(SUPPLIER_OF.get(made.sku, "")), **_lot(made.lot),  # type: ignore[arg-type]
            ),
            ACTOR,
        )
        ids[made.sku], costs[made.sku] = item.id, cost
        await set_bom(
            session,
            item.id,
            [
                NewBomLine(ids[sku], D(qty), D("0.03") if sku in TUBES else None)
                for sku, qty in made.lines
            ],
            actor=ACTOR,
        )
    return {ids[sku]: cost for sku, cost in costs.items()}


async def _opening_stock(
    session: AsyncSession, rng: random.Random, costs: dict[int, Decimal], warehouses: list[int]
) -> None:
    main, east = warehouses
    for item_id, cost in costs.items():
        # Roughly one item in six starts out of stock, so planning has work to do.
        for warehouse_id, share in ((main, 1.0), (east, 0.35)):
            if rng.random() < 0.17:
                continue
            bulk = 20 if cost < 1 else 1  # spokes, nipples and bolts come by the thousand
            quantity = D(max(1, round(rng.randint(5, 400) * share)) * bulk)
            await adjust_stock(
                session,
                StockAdjustment(item_id, quantity, "opening balance", warehouse_id, cost),
                ACTOR,
            )
