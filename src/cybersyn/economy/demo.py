"""The bundled demo economy `chile-1972`, generated deterministically from a seed.

A nation of ~10 million people; the Social Property Area (APS) of ~90 enterprises in 13
sectors, each with 1-3 plants; a 20-product input-output table with plausible coefficients;
4-6 daily indicators per plant with Beer's capability and potentiality; and ~40 districts
whose supply committees (JAP) register households and children. See docs/demo-economy.md.

Coefficients are built in value terms (share of a product's price spent on each input) and
converted to physical units with reference prices, so A is productive by construction:
A = P⁻¹ S P is similar to the value-share matrix S whose column sums are < 1.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cybersyn.economy.model import District, Economy, Indicator, IOSystem, Product, Unit, UnitTree

DEMO_NAME = "chile-1972"
DEMO_SEED = 1972

# code, name, unit of measure, reference price (escudos per unit), labour hours per unit,
# annual final demand (units/year).
PRODUCTS: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("copper", "Refined copper", "tonnes", 9000.0, 60.0, 650_000.0),
    ("coal", "Coal", "tonnes", 300.0, 9.0, 400_000.0),
    ("steel", "Crude steel", "tonnes", 2500.0, 20.0, 250_000.0),
    ("cement", "Cement", "tonnes", 400.0, 3.0, 900_000.0),
    ("cotton_cloth", "Cotton cloth", "thousand metres", 3500.0, 120.0, 60_000.0),
    ("wool_cloth", "Wool cloth", "thousand metres", 6000.0, 150.0, 15_000.0),
    ("milk", "Milk", "thousand litres", 900.0, 6.0, 900_000.0),
    ("flour", "Wheat flour", "tonnes", 1100.0, 4.0, 1_000_000.0),
    ("sugar", "Sugar", "tonnes", 1300.0, 5.0, 280_000.0),
    ("meat", "Meat", "tonnes", 6000.0, 40.0, 180_000.0),
    ("paper", "Paper and cardboard", "tonnes", 2200.0, 15.0, 160_000.0),
    ("electricity", "Electricity", "MWh", 120.0, 0.3, 3_500_000.0),
    ("fuel", "Fuel oil and petrol", "thousand litres", 700.0, 1.5, 1_800_000.0),
    ("freight", "Road and rail freight", "thousand tonne-km", 250.0, 8.0, 2_500_000.0),
    ("telecom", "Telecommunications", "thousand calls", 150.0, 2.0, 900_000.0),
    ("housing", "Housing built", "dwellings", 60_000.0, 2500.0, 45_000.0),
    ("wheat", "Wheat", "tonnes", 500.0, 12.0, 200_000.0),
    ("beet", "Sugar beet", "tonnes", 90.0, 2.0, 50_000.0),
    ("machinery", "Machinery and spare parts", "tonnes", 7000.0, 180.0, 40_000.0),
    ("cattle", "Cattle", "head", 3000.0, 30.0, 40_000.0),
)

# Value shares: (input, output) -> share of the output's price paid for that input.
VALUE_SHARES: dict[tuple[str, str], float] = {
    ("electricity", "copper"): 0.10, ("fuel", "copper"): 0.08, ("machinery", "copper"): 0.10,
    ("freight", "copper"): 0.05, ("coal", "steel"): 0.18, ("electricity", "steel"): 0.08,
    ("machinery", "steel"): 0.06, ("freight", "steel"): 0.06, ("coal", "cement"): 0.15,
    ("electricity", "cement"): 0.12, ("freight", "cement"): 0.08, ("fuel", "coal"): 0.05,
    ("machinery", "coal"): 0.08, ("electricity", "coal"): 0.06,
    ("electricity", "cotton_cloth"): 0.06, ("machinery", "cotton_cloth"): 0.04,
    ("freight", "cotton_cloth"): 0.04, ("cattle", "wool_cloth"): 0.20,
    ("electricity", "wool_cloth"): 0.05, ("freight", "wool_cloth"): 0.04,
    ("cattle", "milk"): 0.25, ("freight", "milk"): 0.10, ("electricity", "milk"): 0.05,
    ("paper", "milk"): 0.04, ("wheat", "flour"): 0.55, ("freight", "flour"): 0.08,
    ("electricity", "flour"): 0.04, ("beet", "sugar"): 0.45, ("fuel", "sugar"): 0.05,
    ("freight", "sugar"): 0.06, ("cattle", "meat"): 0.60, ("freight", "meat"): 0.06,
    ("electricity", "meat"): 0.03, ("electricity", "paper"): 0.10, ("fuel", "paper"): 0.06,
    ("freight", "paper"): 0.06, ("machinery", "paper"): 0.04, ("fuel", "electricity"): 0.25,
    ("coal", "electricity"): 0.15, ("machinery", "electricity"): 0.06,
    ("machinery", "fuel"): 0.05, ("freight", "fuel"): 0.08, ("electricity", "fuel"): 0.04,
    ("fuel", "freight"): 0.25, ("machinery", "freight"): 0.12,
    ("electricity", "telecom"): 0.08, ("machinery", "telecom"): 0.10,
    ("cement", "housing"): 0.12, ("steel", "housing"): 0.10, ("freight", "housing"): 0.06,
    ("machinery", "housing"): 0.04, ("fuel", "wheat"): 0.06, ("machinery", "wheat"): 0.08,
    ("fuel", "beet"): 0.06, ("machinery", "beet"): 0.06, ("wheat", "cattle"): 0.10,
    ("fuel", "cattle"): 0.03, ("steel", "machinery"): 0.25, ("electricity", "machinery"): 0.06,
    ("copper", "machinery"): 0.05, ("freight", "machinery"): 0.04,
}

# sector id, sector name, products its enterprises make, enterprise names.
SECTORS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("copper", "Gran Minería del Cobre", ("copper",),
     ("Chuquicamata", "El Teniente", "El Salvador", "Exótica", "Andina", "ENAMI Paipote",
      "ENAMI Ventanas")),
    ("coal", "Carbón", ("coal",), ("ENACAR Lota", "ENACAR Schwager", "Carbonífera Lirquén",
                                   "Carbonífera Victoria de Lebu")),
    ("steel", "Siderurgia", ("steel",), ("CAP Huachipato", "Compañía Siderúrgica Talcahuano",
                                         "INDAC Aceros")),
    ("cement", "Cemento", ("cement",), ("Cemento Melón", "Cemento Polpaico",
                                        "Cementos Bío-Bío", "Cemento Juan Soldado")),
    ("textiles", "Textiles", ("cotton_cloth", "wool_cloth"),
     ("Textil Yarur", "Textil Sumar", "Textil Hirmas", "Textil Comandari", "Textil Said",
      "Paños Oveja Tomé", "Bellavista Tomé", "Textil Caupolicán Chiguayante",
      "Textil Progreso", "Fabrilana", "Textil Purísima", "Rayón Said")),
    ("food", "Alimentos y Lácteos", ("milk", "flour", "sugar", "meat"),
     ("Soprole", "Lechera del Sur", "Consorcio Lechero", "IANSA Los Ángeles", "IANSA Linares",
      "IANSA Llanquihue", "Molinos Collico", "Molino Santa Rosa", "Molinera El Globo",
      "Frigorífico Lo Valledor", "Frigorífico Punta Arenas", "Agroindustria SOCOAGRO",
      "Conservera Perlak", "Pesquera Arauco")),
    ("paper", "Papel y Cartón", ("paper",), ("CMPC Puente Alto", "CMPC Laja",
                                             "Papeles Bío-Bío", "INFORSA")),
    ("energy", "Energía", ("electricity", "fuel"),
     ("ENDESA Central Rapel", "ENDESA Central El Toro", "Chilectra", "ENAP Concón",
      "ENAP Magallanes", "Compañía General de Electricidad")),
    ("transport", "Transporte", ("freight",),
     ("Ferrocarriles del Estado", "ETCE Empresa de Transportes Colectivos",
      "Transportes del Estado Norte", "Transportes del Estado Sur", "Empresa Marítima del Estado",
      "LAN Carga", "Transportes Camioneros Estatales")),
    ("telecom", "Telecomunicaciones", ("telecom",), ("ENTEL", "Compañía de Teléfonos de Chile",
                                                     "Correos y Telégrafos")),
    ("construction", "Construcción", ("housing",),
     ("CORVI Norte", "CORVI Centro", "CORVI Sur", "Constructora Nacional",
      "Vivienda Popular Santiago", "Prefabricados KPD")),
    ("agriculture", "Agricultura (Reforma Agraria)", ("wheat", "beet", "cattle"),
     ("CERA Malleco", "CERA Cautín", "Centro de Reforma Agraria Ñuble",
      "Asentamiento Los Cristales", "SOCOAGRO Osorno", "CORA Maule", "CORA Valdivia",
      "Hacienda Pullally", "Asentamiento Rinconada de Maipú", "CERA Linares")),
    ("metalworking", "Metalmecánica", ("machinery",),
     ("MADECO", "FENSA", "IRT Arica", "Sindelen", "Cintac", "Electromat", "SOCOMETAL",
      "Maestranza San Bernardo", "NIBSA", "Indumet", "MADEMSA", "Standard Electric",
      "Fundición Libertad", "Maestranza Cerrillos", "Somela")),
)

DISTRICTS: tuple[str, ...] = (
    "Santiago Centro", "Providencia", "Ñuñoa", "La Florida", "Puente Alto", "San Miguel",
    "La Cisterna", "San Bernardo", "Maipú", "Cerrillos", "Estación Central", "Quinta Normal",
    "Renca", "Conchalí", "Recoleta", "Independencia", "Pudahuel", "Lo Prado", "Cerro Navia",
    "La Granja", "La Pintana", "El Bosque", "Pedro Aguirre Cerda", "San Joaquín", "Macul",
    "Peñalolén", "Valparaíso", "Viña del Mar", "Quilpué", "Concepción", "Talcahuano", "Lota",
    "Coronel", "Tomé", "Chillán", "Temuco", "Valdivia", "Osorno", "Antofagasta", "Iquique",
    "Arica", "Rancagua", "Talca", "Punta Arenas",
)
POPULATION = 10_000_000
CHILD_SHARE = 0.39          # under 15 in 1970 (INE census: 39%)
PEOPLE_PER_HOUSEHOLD = 5.0


def demo_economy(seed: int = DEMO_SEED) -> Economy:
    """Build `chile-1972`; the same seed always gives the same economy (bit for bit)."""
    rng = np.random.default_rng(seed)
    io = _io_system(rng)
    units, producer = _units(rng)
    indicators = _indicators(rng, units, io, producer)
    products = tuple(Product(c, n, u) for c, n, u, *_ in PRODUCTS)
    return Economy(DEMO_NAME, UnitTree(units), products, io, indicators, _districts(rng),
                   {p: e for p, e in producer.items()})


def reference_prices() -> np.ndarray:
    """Escudos per unit of each product, shape (20,), in PRODUCTS order."""
    return np.array([p[3] for p in PRODUCTS])


def _io_system(rng: np.random.Generator) -> IOSystem:
    codes = [p[0] for p in PRODUCTS]
    index = {c: i for i, c in enumerate(codes)}
    price = reference_prices()
    n = len(codes)
    S = np.zeros((n, n))
    for (i, j), share in VALUE_SHARES.items():
        S[index[i], index[j]] = share * rng.uniform(0.9, 1.1)
    A = S * price[None, :] / price[:, None]        # physical units of i per unit of j
    labour = np.array([p[4] for p in PRODUCTS]) * rng.uniform(0.95, 1.05, n)
    demand = np.array([p[5] for p in PRODUCTS])
    gross = np.linalg.solve(np.eye(n) - A, demand)
    capacity = np.round(gross * rng.uniform(1.08, 1.25, n), -1)
    return IOSystem(tuple(codes), sp.csr_matrix(A), labour, capacity, demand)


def _units(rng: np.random.Generator) -> tuple[list[Unit], dict[str, str]]:
    units = [Unit("CL", "Chile", "nation")]
    producer: dict[str, str] = {}
    for sid, sname, products, enterprises in SECTORS:
        sector_id = f"CL.{sid}"
        units.append(Unit(sector_id, sname, "sector", "CL"))
        for k, ename in enumerate(enterprises):
            eid = f"{sector_id}.e{k + 1:02d}"
            units.append(Unit(eid, ename, "enterprise", sector_id))
            for k_plant in range(int(rng.integers(1, 4))):
                units.append(Unit(f"{eid}.p{k_plant + 1}", f"{ename} planta {k_plant + 1}",
                                  "plant", eid))
        for product in products:
            producer[product] = f"{sector_id}.e01"
    return units, producer


def _plant_product(plant: Unit, sector_products: dict[str, tuple[str, ...]],
                   k: int) -> str:
    sector = plant.id.split(".")[1]
    options = sector_products[sector]
    return options[k % len(options)]


def _indicators(rng: np.random.Generator, units: list[Unit], io: IOSystem,
                producer: dict[str, str]) -> tuple[Indicator, ...]:
    sector_products = {sid: prods for sid, _, prods, _ in SECTORS}
    uom = {p[0]: p[2] for p in PRODUCTS}
    plants = [u for u in units if u.level == "plant"]
    plants_per_product: dict[str, int] = {}
    chosen = []
    for k, plant in enumerate(plants):
        product = _plant_product(plant, sector_products, k)
        plants_per_product[product] = plants_per_product.get(product, 0) + 1
        chosen.append((plant, product))
    out: list[Indicator] = []
    for plant, product in chosen:
        daily_capacity = io.capacity[io.index[product]] / 365.0 / plants_per_product[product]
        share = rng.uniform(0.6, 1.4)
        potentiality = round(float(daily_capacity * share), 2)
        capability = round(potentiality * float(rng.uniform(0.8, 0.95)), 2)
        out += _plant_indicators(rng, plant, product, uom[product], capability, potentiality)
    return tuple(out)


def _plant_indicators(rng: np.random.Generator, plant: Unit, product: str, uom: str,
                      capability: float, potentiality: float) -> list[Indicator]:
    pid = plant.id
    found = [
        Indicator(f"{pid}.output", pid, f"Output of {product}", f"{uom}/day", capability,
                  potentiality, product, True),
        Indicator(f"{pid}.energy", pid, "Energy use", "MWh/day", None, None, None, False),
        Indicator(f"{pid}.absenteeism", pid, "Absenteeism", "percent", None, None, None, False),
        Indicator(f"{pid}.stock", pid, "Raw-material stock", "days of cover", None, None, None,
                  True),
    ]
    extras = [
        Indicator(f"{pid}.deliveries", pid, "Deliveries dispatched", "loads/day", None, None,
                  None, True),
        Indicator(f"{pid}.rejects", pid, "Rejected output", "percent", None, None, None, False),
    ]
    return found + extras[: int(rng.integers(0, 3))]


def _districts(rng: np.random.Generator) -> tuple[District, ...]:
    weights = rng.lognormal(0.0, 0.5, len(DISTRICTS))
    people = np.floor(POPULATION * weights / weights.sum()).astype(int)
    people[0] += POPULATION - people.sum()
    out = []
    for k, (name, n) in enumerate(zip(DISTRICTS, people, strict=True)):
        children = int(n * CHILD_SHARE * rng.uniform(0.9, 1.1))
        out.append(District(f"D{k + 1:02d}", name, round(n / PEOPLE_PER_HOUSEHOLD),
                            int(n), children, int(n * 0.025)))
    return tuple(out)
