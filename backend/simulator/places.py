"""Static catalogue of the demo world: cities (real districts, on land), site types with their
staffing patterns and tours, clients, checkpoint and guard names."""
from __future__ import annotations

from dataclasses import dataclass

MON_FRI = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class City:
    name: str
    code: str
    timezone: str
    districts: tuple[tuple[str, float, float], ...]   # (name, lat, lon)
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


@dataclass(frozen=True)
class ShiftTemplate:
    start: str                              # site-local "HH:MM"
    hours: float
    weekdays: tuple[int, ...] | None = None  # None = every day; Monday = 0


@dataclass(frozen=True)
class SiteType:
    label: str
    shifts: tuple[ShiftTemplate, ...]
    posts: tuple[int, int]                  # min, max guards on duty at once
    radius_m: tuple[float, float]           # geofence radius range
    checkpoints: tuple[int, int]
    tour_interval_min: tuple[int, ...]
    tour_hours: tuple[str, str]             # active_from, active_to (site-local; "24:00" = midnight)
    signal_base_dbm: float                  # indoor sites have weaker coverage

    @property
    def hours_label(self) -> str:
        return ", ".join(f"{t.start}+{t.hours:g}h" + (" Mon-Fri" if t.weekdays else "")
                         for t in self.shifts)


TWO_TWELVES = (ShiftTemplate("07:00", 12), ShiftTemplate("19:00", 12))
THREE_EIGHTS = (ShiftTemplate("06:00", 8), ShiftTemplate("14:00", 8), ShiftTemplate("22:00", 8))

SITE_TYPES: tuple[SiteType, ...] = (
    SiteType("Distribution Centre", TWO_TWELVES, (1, 3), (220, 350), (5, 7), (60, 90), ("00:00", "24:00"), -88),
    SiteType("Office Tower", TWO_TWELVES, (1, 2), (90, 150), (4, 6), (120,), ("19:00", "07:00"), -95),
    SiteType("Data Centre", THREE_EIGHTS, (1, 2), (120, 200), (5, 6), (60,), ("00:00", "24:00"), -100),
    SiteType("Retail Park", (ShiftTemplate("20:00", 11),), (1, 2), (200, 320), (4, 6), (60, 90),
             ("20:00", "07:00"), -85),
    SiteType("Construction Site", (ShiftTemplate("18:00", 12),), (1, 2), (150, 300), (3, 5), (90,),
             ("18:00", "06:00"), -92),
    SiteType("Corporate Campus", (ShiftTemplate("07:00", 12, MON_FRI), ShiftTemplate("19:00", 12)),
             (1, 2), (180, 260), (5, 7), (90, 120), ("19:00", "07:00"), -90),
    SiteType("Hotel", THREE_EIGHTS, (1, 1), (80, 120), (3, 5), (120,), ("22:00", "06:00"), -93),
    SiteType("Hospital Car Park", TWO_TWELVES, (1, 2), (150, 220), (3, 4), (60,), ("00:00", "24:00"), -87),
)

CLIENTS: tuple[tuple[str, str], ...] = (
    ("ATLAS", "Atlas Logistics"),
    ("MERID", "Meridian Retail Group"),
    ("NGATE", "Northgate Properties"),
    ("HELIX", "Helix Biotech"),
    ("HARBR", "Harbour Hotels"),
    ("VRTX", "Vertex Data Centres"),
)

CHECKPOINT_NAMES: tuple[str, ...] = (
    "Main Gate", "Loading Bay", "Car Park Level -1", "Roof Access", "Fire Exit North",
    "Reception", "Perimeter Fence East", "Generator Room", "Fire Exit South", "Perimeter Fence West",
)

_EN_FIRST = ("James", "Olivia", "Mohammed", "Amelia", "Daniel", "Grace", "Samuel", "Chloe", "Kwame",
             "Priya", "Thomas", "Aisha", "Ryan", "Zoe", "Marcus", "Hannah", "Andre", "Nadia", "Lewis", "Maya")
_EN_LAST = ("Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Patel", "Okafor",
            "Khan", "Wilson", "Johnson", "Clarke", "Walker", "Wright", "Green", "Hughes", "Ali", "Murphy",
            "Mensah")
_US_FIRST = ("Michael", "Jessica", "Carlos", "Ashley", "Jamal", "Emily", "Luis", "Tiffany", "Kevin",
             "Maria", "Anthony", "Brianna", "Jose", "Keisha", "Brandon", "Sofia", "Tyrone", "Megan",
             "Dmitri", "Ana")
_US_LAST = ("Johnson", "Rodriguez", "Williams", "Garcia", "Brown", "Martinez", "Jackson", "Lopez",
            "Davis", "Hernandez", "Miller", "Gonzalez", "Wilson", "Rivera", "Moore", "Thompson", "White",
            "Kowalski", "Nguyen", "Cohen")
_PT_FIRST = ("João", "Maria", "Pedro", "Ana", "Rui", "Inês", "Tiago", "Beatriz", "Nuno", "Catarina",
             "Miguel", "Sofia", "Bruno", "Marta", "Ricardo", "Joana", "Hélder", "Rita", "Carlos", "Filipa")
_PT_LAST = ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
            "Sousa", "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Alves", "Almeida", "Ribeiro",
            "Pinto", "Carvalho", "Teixeira")
_SG_FIRST = ("Wei Ming", "Siti", "Rajesh", "Hui Ling", "Muhammad", "Mei Ling", "Arjun", "Nurul",
             "Jun Jie", "Kavitha", "Hafiz", "Xin Yi", "Suresh", "Farah", "Kai Wen", "Deepa", "Zul",
             "Li Na", "Ravi", "Aminah")
_SG_LAST = ("Tan", "Lim", "Lee", "Ng", "Wong", "Goh", "Chua", "Rahman", "Abdullah", "Kumar", "Nair",
            "Pillai", "Ong", "Teo", "Koh", "Ismail", "Singh", "Chong", "Yeo", "Hassan")

CITIES: tuple[City, ...] = (
    City("Lisbon", "LIS", "Europe/Lisbon", (
        ("Baixa", 38.7115, -9.1365), ("Parque das Nações", 38.7681, -9.0940), ("Alcântara", 38.7057, -9.1786),
        ("Benfica", 38.7510, -9.2003), ("Alvalade", 38.7536, -9.1436), ("Belém", 38.6977, -9.2063),
        ("Campo de Ourique", 38.7185, -9.1660), ("Areeiro", 38.7423, -9.1336), ("Lumiar", 38.7722, -9.1600),
        ("Marvila", 38.7450, -9.1050)), _PT_FIRST, _PT_LAST),
    City("New York", "NYC", "America/New_York", (
        ("Midtown", 40.7549, -73.9840), ("Financial District", 40.7075, -74.0113),
        ("Hudson Yards", 40.7538, -74.0020), ("Long Island City", 40.7447, -73.9485),
        ("Downtown Brooklyn", 40.6928, -73.9903), ("Harlem", 40.8116, -73.9465),
        ("Mott Haven", 40.8090, -73.9229), ("Red Hook", 40.6734, -74.0080), ("Flushing", 40.7580, -73.8303),
        ("Sunset Park", 40.6455, -74.0124)), _US_FIRST, _US_LAST),
    City("Singapore", "SIN", "Asia/Singapore", (
        ("Raffles Place", 1.2840, 103.8514), ("Marina Bay", 1.2834, 103.8607), ("Jurong East", 1.3331, 103.7422),
        ("Changi Business Park", 1.3343, 103.9627), ("Tampines", 1.3540, 103.9450),
        ("Woodlands", 1.4360, 103.7865), ("Orchard", 1.3048, 103.8318), ("Paya Lebar", 1.3180, 103.8930),
        ("Tuas", 1.3200, 103.6500), ("One-North", 1.2990, 103.7870)), _SG_FIRST, _SG_LAST),
    City("London", "LON", "Europe/London", (
        ("City of London", 51.5155, -0.0922), ("Canary Wharf", 51.5054, -0.0235),
        ("King's Cross", 51.5308, -0.1238), ("Southwark", 51.5035, -0.0910), ("Westminster", 51.4995, -0.1350),
        ("Shoreditch", 51.5246, -0.0780), ("Paddington", 51.5154, -0.1755), ("Stratford", 51.5416, -0.0022),
        ("Croydon", 51.3762, -0.0982), ("Hammersmith", 51.4927, -0.2240)), _EN_FIRST, _EN_LAST),
)
