"""`techex seed-demo` for contracts: registered technology contracts across Jiangsu and Jiangxi,
2016 to this year, filed, reviewed, registered, some amended and some cancelled, each through the
same service functions the API uses, on its own dates. Deterministic (seeded random).

Registration offices (one per city) with an officer, and the selling organisations with an
applicant, are added when missing; their passwords are random and shown nowhere (demo accounts
are for looking at, the administrator can reset them). Idempotent: once the demo contracts are
there, running it again adds nothing."""

import math
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from app.accounts import service as accounts
from app.accounts.models import Organization, OrganizationKind, Role, User
from app.accounts.schemas import OrganizationCreate
from app.audit.service import SystemActor
from app.contracts import service, transitions
from app.contracts.documents import document_store
from app.contracts.models import ContractApplication
from app.contracts.schemas import ApplicationCreate
from app.contracts.vocabulary import SUBTYPES, ContractSubtype, ContractType, IPCategory, PartyKind
from app.contracts.workflow import Action, Status
from app.core.config import Settings
from app.core.regions import current_regions, is_current_region
from app.core.types import today_in_china
from app.core.vocabulary import TechnologyField

FIRST_YEAR = 2016
EMAIL_DOMAIN = "techex-demo.cn"
K = OrganizationKind

# City code → (name, registration point): one registration office per city.
CITIES = {
    "320100": ("南京市", "01"),
    "320200": ("无锡市", "02"),
    "320300": ("徐州市", "01"),
    "320400": ("常州市", "03"),
    "320500": ("苏州市", "01"),
    "320600": ("南通市", "02"),
    "321000": ("扬州市", "01"),
    "321100": ("镇江市", "02"),
    "360100": ("南昌市", "01"),
    "360200": ("景德镇市", "01"),
    "360400": ("九江市", "02"),
    "360700": ("赣州市", "01"),
    "360900": ("宜春市", "01"),
}

# The selling side: name, kind, GB/T 2260 county (or city) code, fields, weight (how often it sells).
# The universities and several companies are also the listings' demo organisations (same names).
SELLERS = [
    ("南京大学", K.university, "320113", ("electronic_information", "new_materials", "environment"), 6),
    (
        "东南大学",
        K.university,
        "320115",
        ("modern_transportation", "urban_social", "advanced_manufacturing"),
        6,
    ),
    ("南京农业大学", K.university, "320102", ("agriculture",), 3),
    (
        "南京紫金智能装备有限公司",
        K.enterprise,
        "320115",
        ("advanced_manufacturing", "electronic_information"),
        4,
    ),
    ("南京江北生物医药有限公司", K.enterprise, "320111", ("biomedicine",), 3),
    ("南京秦淮软件技术有限公司", K.enterprise, "320104", ("electronic_information",), 5),
    ("江苏省农业科学院", K.research_institute, "320100", ("agriculture",), 3),
    ("江南大学", K.university, "320214", ("agriculture", "biomedicine"), 4),
    ("无锡澄星光伏科技有限公司", K.enterprise, "320281", ("new_energy",), 3),
    ("无锡梁溪物联网技术研究院", K.research_institute, "320213", ("electronic_information",), 3),
    ("中国矿业大学", K.university, "320300", ("new_energy", "environment", "advanced_manufacturing"), 3),
    ("常州天润智能制造有限公司", K.enterprise, "320400", ("advanced_manufacturing",), 3),
    ("常州武进新材料研究院", K.research_institute, "320412", ("new_materials",), 2),
    ("苏州大学", K.university, "320508", ("biomedicine", "new_materials"), 5),
    ("苏州恒锐新材料科技有限公司", K.enterprise, "320505", ("new_materials",), 3),
    ("昆山精工模具技术有限公司", K.enterprise, "320583", ("advanced_manufacturing",), 3),
    ("苏州吴中医疗器械有限公司", K.enterprise, "320506", ("biomedicine",), 2),
    ("南通海工装备有限公司", K.enterprise, "320612", ("advanced_manufacturing", "modern_transportation"), 2),
    ("如皋纺织科技有限公司", K.enterprise, "320682", ("new_materials",), 2),
    ("扬州大学", K.university, "321002", ("agriculture", "biomedicine"), 3),
    ("扬州邗江环境工程有限公司", K.enterprise, "321003", ("environment",), 2),
    ("丹阳光学科技有限公司", K.enterprise, "321181", ("electronic_information", "new_materials"), 2),
    ("镇江船舶设计研究所", K.research_institute, "321112", ("modern_transportation", "aerospace"), 2),
    ("南昌大学", K.university, "360113", ("biomedicine", "new_materials", "electronic_information"), 3),
    ("江西省科学院", K.research_institute, "360103", ("new_energy", "aerospace", "urban_social"), 2),
    (
        "南昌赣江汽车零部件有限公司",
        K.enterprise,
        "360104",
        ("advanced_manufacturing", "modern_transportation"),
        2,
    ),
    ("江西农业大学", K.university, "360100", ("agriculture", "environment"), 2),
    ("景德镇陶瓷大学", K.university, "360202", ("new_materials",), 1),
    ("九江石化环保科技有限公司", K.enterprise, "360403", ("environment", "nuclear"), 1),
    ("江西理工大学", K.university, "360702", ("new_materials", "nuclear", "advanced_manufacturing"), 2),
    ("赣州稀金新材料有限公司", K.enterprise, "360702", ("new_materials",), 2),
    ("宜春锂电新能源有限公司", K.enterprise, "360902", ("new_energy",), 1),
]

# Buyers are not users of the service: a name built from the city, a word and a trade.
BUYER_COUNTIES = [
    "320102", "320105", "320106", "320114", "320115", "320117", "320205", "320206", "320214",
    "320282", "320402", "320404", "320413", "320481", "320505", "320507", "320509", "320582",
    "320585", "320613", "320614", "320685", "321012", "321081", "321112", "321182", "321183",
    "320303", "320382", "360102", "360112", "360121", "360124", "360203", "360281", "360404",
    "360482", "360703", "360704", "360781", "360981", "360983",
]  # fmt: skip
BUYER_WORDS = ["华信", "恒通", "瑞丰", "金泰", "博远", "中科", "宏达", "天成", "锦程", "润禾", "新创", "长江"]
BUYER_TRADES = {
    "electronic_information": "电子科技有限公司",
    "advanced_manufacturing": "机械制造有限公司",
    "aerospace": "航空科技有限公司",
    "modern_transportation": "交通工程有限公司",
    "agriculture": "农业发展有限公司",
    "new_materials": "新材料有限公司",
    "new_energy": "新能源科技有限公司",
    "environment": "环保工程有限公司",
    "biomedicine": "生物医药有限公司",
    "nuclear": "核技术应用有限公司",
    "urban_social": "城市建设发展有限公司",
}

# What the contracts are about, by field (the project name is a topic and the type's word).
TOPICS = {
    "electronic_information": [
        "工业互联网平台",
        "边缘计算网关",
        "机器视觉检测系统",
        "智慧园区管理软件",
        "毫米波雷达信号处理",
    ],
    "advanced_manufacturing": [
        "数控机床热误差补偿",
        "工业机器人柔性装配",
        "精密模具快速成型",
        "谐波减速器柔轮加工",
        "激光焊接工艺",
    ],
    "aerospace": ["无人机飞控系统", "航空复合材料结构件", "卫星遥感数据处理"],
    "modern_transportation": ["船舶节能推进", "智能交通信号控制", "新能源汽车热管理", "轨道交通减振"],
    "agriculture": ["水稻抗病新品种选育", "设施蔬菜水肥一体化", "茶叶精深加工", "生猪健康养殖", "果蔬保鲜"],
    "new_materials": ["稀土永磁材料", "高导热陶瓷基板", "碳纤维复合材料", "特种陶瓷釉料", "高性能纤维纺纱"],
    "new_energy": ["锂电池正极材料", "光伏组件清洗", "储能系统能量管理", "氢燃料电池膜电极"],
    "environment": ["工业废水深度处理", "土壤重金属修复", "挥发性有机物治理", "固废资源化利用"],
    "biomedicine": ["抗体药物细胞株构建", "体外诊断试剂", "中药配方颗粒质量控制", "医用敷料"],
    "nuclear": ["核技术无损检测", "放射性废物处理"],
    "urban_social": ["老旧小区海绵化改造", "建筑能耗监测", "城市内涝预警"],
}
TYPE_WORDS = {
    ContractType.development: "技术开发",
    ContractType.transfer: "技术转让",
    ContractType.licensing: "专利实施许可",
    ContractType.consulting: "技术咨询",
    ContractType.service: "技术服务",
}
# Share of each type among contracts (技术服务 and 技术开发 are most of them nationally).
TYPE_WEIGHTS = {
    ContractType.service: 45,
    ContractType.development: 32,
    ContractType.consulting: 10,
    ContractType.transfer: 7,
    ContractType.licensing: 6,
}
OBJECTIVES = {
    "agriculture": "农林牧渔业发展",
    "environment": "环境保护、生态建设及污染防治",
    "biomedicine": "卫生事业发展",
    "new_energy": "能源生产、分配和合理利用",
    "urban_social": "社会发展和社会服务",
    "aerospace": "民用空间探索与利用",
}
EXPERTS = ["王建国", "李秀英", "张志强", "刘海燕", "陈立新", "周文华"]


def _credit_code(name: str, region: str, registrant: str = "91") -> str:
    """An invented, valid (GB 32100) unified social credit code, the same for the same name;
    `registrant` 91 is a company's registration, 12 a public institution's (事业单位)."""
    digits = f"{uuid.uuid5(uuid.NAMESPACE_URL, 'techex-demo/' + name).int % 10**7:07d}"
    body = f"{registrant}{region[:4]}00MA{digits}"
    return body + uscc.calc_check_digit(body)


def _city(region: str) -> str:
    return region[:4] + "00"


@dataclass
class _Seller:
    organization: Organization
    applicant: User
    fields: tuple[str, ...]
    officer: User


async def _organization(session: AsyncSession, data: OrganizationCreate) -> Organization:
    found = (await session.execute(select(Organization).where(Organization.name == data.name))).scalar()
    if found is None:
        found = await accounts.create_organization(session, actor=SystemActor(), data=data, verified=True)
    return found


async def _user(session: AsyncSession, organization: Organization, email: str, role: Role) -> User:
    found = (await session.execute(select(User).where(User.email == email))).scalar()
    if found is None:
        found = await accounts.create_user(
            session,
            actor=SystemActor(),
            organization=organization,
            email=email,
            password=secrets.token_urlsafe(24),
            role=role,
            full_name="演示登记员" if role == Role.registration_officer else "演示申请人",
        )
    return found


async def _sellers(session: AsyncSession) -> list[tuple[_Seller, int]]:
    officers: dict[str, User] = {}
    for city, (name, point) in CITIES.items():
        office = await _organization(
            session,
            OrganizationCreate(
                kind=K.registration_office,
                name=f"{name}技术合同认定登记站",
                credit_code=_credit_code(f"{name}技术合同认定登记站", city, registrant="12"),
                region_code=city,
                registration_point=point,
            ),
        )
        officers[city] = await _user(
            session, office, f"officer.{city}@{EMAIL_DOMAIN}", Role.registration_officer
        )
    sellers = []
    for name, kind, region, fields, weight in SELLERS:
        assert is_current_region(region), region
        organization = await _organization(
            session,
            OrganizationCreate(
                kind=kind, name=name, credit_code=_credit_code(name, region), region_code=region
            ),
        )
        assert organization.region_code and organization.credit_code and organization.verified, name
        email = f"contracts.{organization.credit_code[-7:].lower()}@{EMAIL_DOMAIN}"
        applicant = await _user(session, organization, email, Role.member)
        officer = officers[_city(organization.region_code)]
        sellers.append((_Seller(organization, applicant, fields, officer), weight))
    return sellers


def _amount(rng: random.Random) -> Decimal:
    """Log-normal around 300,000 元: most tens to hundreds of thousands, a few tens of millions."""
    value = math.exp(rng.gauss(math.log(300_000), 1.35))
    value = min(max(value, 20_000), 60_000_000)
    step = 1_000 if value < 1_000_000 else 10_000
    return Decimal(round(value / step) * step).quantize(Decimal("0.01"))


def _registration_day(rng: random.Random, year: int, today: date) -> date:
    """A working day (Monday to Friday) of `year`, not after today."""
    start = date(year, 1, 1)
    end = min(date(year, 12, 31), today)
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    while day.weekday() >= 5 and day > start:
        day -= timedelta(days=1)
    return day


@dataclass
class _Plan:
    seller: _Seller
    form: dict
    filed_on: date
    registered_on: date
    technology_amount: Decimal
    expert: str
    amend: tuple[date, Decimal, Decimal] | None
    cancel_on: date | None


def _plans(sellers: list[tuple[_Seller, int]], count: int, today: date) -> list[_Plan]:
    rng = random.Random(19)  # noqa: S311 — demo figures, the same on every run
    years = list(range(FIRST_YEAR, today.year + 1))
    year_weights = [1.18 ** (y - FIRST_YEAR) for y in years]  # the market grows every year
    types, type_weights = zip(*TYPE_WEIGHTS.items(), strict=True)
    who, seller_weights = zip(*sellers, strict=True)
    plans = []
    seen: set[tuple[str, str, str, date]] = set()
    for _ in range(count):
        seller = rng.choices(who, seller_weights)[0]
        field = rng.choice(seller.fields)
        contract_type = rng.choices(types, type_weights)[0]
        subtype = rng.choice(sorted(SUBTYPES[contract_type]))
        registered_on = _registration_day(rng, rng.choices(years, year_weights)[0], today)
        filed_on = max(registered_on - timedelta(days=rng.randint(0, 12)), date(FIRST_YEAR, 1, 1))
        signed_on = filed_on - timedelta(days=rng.randint(3, 90))
        contract_amount = _amount(rng)
        deductions = {"equipment": Decimal("0.00"), "materials": Decimal("0.00"), "other": Decimal("0.00")}
        if contract_type in (ContractType.development, ContractType.service) and rng.random() < 0.6:
            share = Decimal(rng.randint(5, 40)) / 100
            deducted = (contract_amount * share).quantize(Decimal("0.01"))
            deductions[rng.choice(["equipment", "materials", "other"])] = deducted
        technology_amount = contract_amount - sum(deductions.values())
        buyer_region = rng.choice(BUYER_COUNTIES)
        buyer_name = f"{current_regions()[_city(buyer_region)]}{rng.choice(BUYER_WORDS)}{BUYER_TRADES[field]}"
        buyer_kind = PartyKind.enterprise if rng.random() < 0.9 else PartyKind.research_institute
        topic = rng.choice(TOPICS[field])
        ip_kind = {
            ContractSubtype.patent_right: IPCategory.patent,
            ContractSubtype.patent_application_right: IPCategory.patent,
            ContractSubtype.technical_secret: IPCategory.technical_secret,
        }.get(subtype)
        if ip_kind is None:
            if contract_type in (ContractType.development, ContractType.licensing, ContractType.transfer):
                ip_kind = rng.choice(
                    [
                        IPCategory.patent,
                        IPCategory.patent,
                        IPCategory.technical_secret,
                        IPCategory.software_copyright,
                    ]
                )
            else:
                ip_kind = IPCategory.none
        form = {
            "contract_type": contract_type,
            "contract_subtype": subtype,
            "project_name": f"{topic}{TYPE_WORDS[contract_type]}",
            "buyer": {
                "name": buyer_name,
                "credit_code": _credit_code(buyer_name, buyer_region),
                "region_code": buyer_region,
                "kind": buyer_kind,
            },
            "seller": {
                "name": seller.organization.name,
                "credit_code": seller.organization.credit_code,
                "kind": PartyKind(seller.organization.kind.value),
            },
            "signed_on": signed_on,
            "valid_from": signed_on,
            "valid_until": signed_on + timedelta(days=365 * rng.randint(1, 3)),
            "contract_amount": contract_amount,
            "claimed_technology_amount": technology_amount,
            "deductions": deductions,
            "technology_field": TechnologyField(field),
            "ip_kind": ip_kind,
            "socio_economic_objective": OBJECTIVES.get(field, "促进工业发展"),
            "expected_new_investment": (contract_amount * rng.randint(1, 5)).quantize(Decimal("1.00")),
            "expected_new_output": (contract_amount * rng.randint(3, 20)).quantize(Decimal("1.00")),
        }
        # One application per contract (the duplicate rule): a second one of the same parties,
        # name and day is the project's next phase.
        key = (seller.organization.name, buyer_name, form["project_name"], signed_on)
        while key in seen:
            form["project_name"] += "（二期）"
            key = (*key[:2], form["project_name"], signed_on)
        seen.add(key)
        amend = cancel_on = None
        chance = rng.random()
        if chance < 0.06:  # 变更登记: the parties changed the price by a supplementary agreement
            factor = Decimal(rng.choice([60, 75, 120, 150, 200])) / 100
            new_contract = (contract_amount * factor).quantize(Decimal("1.00"))
            new_technology = (technology_amount * factor).quantize(Decimal("1.00"))
            amend = (registered_on + timedelta(days=rng.randint(20, 300)), new_contract, new_technology)
        elif chance < 0.09:  # 注销登记: the contract was terminated
            cancel_on = registered_on + timedelta(days=rng.randint(30, 400))
        plans.append(
            _Plan(
                seller=seller,
                form=form,
                filed_on=filed_on,
                registered_on=registered_on,
                technology_amount=technology_amount,
                expert=rng.choice(EXPERTS),
                amend=amend if amend and amend[0] <= today else None,
                cancel_on=cancel_on if cancel_on and cancel_on <= today else None,
            )
        )
    return plans


async def _file(session: AsyncSession, plan: _Plan, settings: Settings) -> tuple[int, int]:
    """One contract from draft to registered (and amended or cancelled), as the API would do it."""
    seller, officer = plan.seller.applicant, plan.seller.officer

    async def act(user: User, action: Action, on: date, **params: object) -> ContractApplication:
        return await transitions.act(
            session,
            user=user,
            application_id=app.id,
            action=action,
            settings=settings,
            params=params,
            today=on,
        )

    data = ApplicationCreate.model_validate(plan.form)
    app = await service.create_application(
        session, user=seller, data=data, today=plan.filed_on, settings=settings
    )
    await service.attach_document(
        session,
        user=seller,
        application_id=app.id,
        name="技术合同.txt",
        data=f"{data.project_name}\n{data.seller.name} / {data.buyer.name}\n{data.signed_on}\n".encode(),
        store=document_store(settings.data_dir),
    )
    await act(seller, Action.submit, plan.filed_on)
    await act(officer, Action.accept, plan.filed_on)
    app = await act(officer, Action.start_review, plan.registered_on)
    if app.status == Status.expert_review:  # large: 专家评审 before it is registered
        opinion = {
            "expert_name": plan.expert,
            "opinion": "技术交易额认定合理，同意登记。",
        }
        await act(officer, Action.add_expert_opinion, plan.registered_on, opinion=opinion)
    await act(officer, Action.register, plan.registered_on, technology_amount=plan.technology_amount)
    if plan.amend:
        on, contract_amount, technology_amount = plan.amend
        change = {"contract_amount": contract_amount, "technology_amount": technology_amount}
        reason = "双方签订补充协议，变更合同价款。"
        app = await act(officer, Action.amend, on, reason=reason, **change)
        if app.status == Status.amendment_review:  # a change to a large amount: experts first
            opinion = {"expert_name": plan.expert, "opinion": "补充协议真实，变更后金额认定合理。"}
            await act(officer, Action.add_expert_opinion, on, opinion=opinion)
            await act(officer, Action.amend, on, reason=reason, **change)
    if plan.cancel_on:
        await act(officer, Action.cancel, plan.cancel_on, reason="合同双方协商一致解除合同。")
    return int(plan.amend is not None), int(plan.cancel_on is not None)


async def seed_contracts(session: AsyncSession, settings: Settings) -> str:
    sellers = await _sellers(session)
    applicants = [seller.applicant.id for seller, _ in sellers]
    present = (
        await session.execute(
            select(func.count())
            .select_from(ContractApplication)
            .where(ContractApplication.created_by_id.in_(applicants))
        )
    ).scalar_one()
    if present:
        return f"contracts: 0 added, {present} already present"
    amended = cancelled = 0
    plans = _plans(sellers, settings.demo_contracts, today_in_china())
    for plan in plans:
        a, c = await _file(session, plan, settings)
        amended, cancelled = amended + a, cancelled + c
    return f"contracts: {len(plans)} registered ({amended} amended, {cancelled} cancelled) added"
