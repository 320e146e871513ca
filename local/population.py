"""A seeded, simulated B2B lead population with known outcomes, for the evaluation demo, tests and bench.

Not the test set: an outside population judges the model. This one exists so `leadscore evaluate` has a
ledger to read and an oracle to compare with, and so every trap real data has shows up in it:

- personas: executives, managers, practitioners, consultants, students, job seekers, competitors and
  webmail hobbyists; company size, industry and country drawn per persona;
- web activity as `page_viewed` LeadEvents (C1: `properties.page_url`, `visitor_id`): pricing, demo,
  case studies, security, integrations, docs, blog, careers, with weekly seasonality (quiet weekends);
- email activity: a weekly campaign (`email_delivered`), human opens and clicks, Apple Mail Privacy
  Protection machine opens (`automated`, a few not flagged), corporate link scanners clicking every link
  seconds after delivery (`automated`, a few not flagged);
- forms: demo request, free trial, case study, white paper, webinar, newsletter;
- outcomes: `sales_accepted` / `sales_rejected` (reason) and then `deal_won` / `deal_lost` (amount).

Each lead has a latent fit and, with a persona-dependent chance, a buying episode (a few weeks of intense
research, then quiet). Its TRUE probability of being accepted by sales is a logistic function of both; the
outcome is drawn from it, and activity is drawn from the same latents, so what a model sees is a noisy
proxy. Traps: students and competitors read the pricing page, job seekers the careers page, machine opens
and scanners look like interest, leads that researched months ago went quiet, fit signals the default model
does not know (healthcare buys, Spain and Singapore are served; some competitors use domains no list has).

The population's true drivers of conversion are a `World` (`WORLDS`, `simulate_population(world=...)`):
`default` is close to what the default rule model assumes; the others are the realistic case a user is in,
where the hand-set points are guesses and the truth differs from them (README "Predictive scoring").

Deterministic per seed: the same arguments always give the same events, in the same order. The default
world's output for a seed is the one it always was (tests and figures rely on it; a test pins it).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadscore.models.events import EventType, LeadEvent, Scalar

SITE = "https://www.leadscore-demo.example"
DEFAULT_START = datetime(2026, 5, 4, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
# Activity by weekday (Mon..Sun): B2B research happens at work.
WEEKDAY_FACTOR = (1.0, 1.1, 1.1, 1.0, 0.75, 0.2, 0.15)

OUTCOME_TYPES = ("sales_accepted", "sales_rejected", "deal_won", "deal_lost")


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    titles: tuple[str, ...]
    webmail: float  # chance of a free webmail address
    sizes: tuple[int, int] | None  # company size range (log-uniform); None: no company
    seniority: float  # buying power, part of the true fit
    in_market: float  # chance of a buying episode within the window
    pricing: float  # pricing-page curiosity outside any buying episode
    careers: float  # careers-page interest
    browsing: float  # background sessions per week (blog, docs)


PERSONAS: tuple[Persona, ...] = (
    Persona("exec", 0.08, ("CEO", "CTO", "VP Engineering", "VP of Marketing", "Co-Founder", "Chief Revenue Officer",
            "COO"), 0.12, (20, 8000), 1.3, 0.35, 0.05, 0.0, 0.4),
    Persona("manager", 0.18, ("Head of Growth", "Engineering Manager", "Director of Marketing",
            "Marketing Operations Lead", "Sales Manager", "IT Director"), 0.08, (30, 10000), 0.9, 0.3, 0.05,
            0.01, 0.8),
    Persona("practitioner", 0.24, ("Software Engineer", "Marketing Specialist", "Data Analyst", "DevOps Engineer",
            "Growth Marketer", "Product Designer"), 0.25, (10, 20000), 0.1, 0.14, 0.05, 0.03, 1.2),
    Persona("consultant", 0.07, ("Consultant", "Freelance Marketer", "Agency Owner"), 0.4, (1, 40), 0.0, 0.12,
            0.1, 0.0, 0.8),
    Persona("student", 0.09, ("Student", "PhD Candidate", "Marketing Intern", "Graduate Student"), 0.7, None,
            -2.5, 0.0, 0.5, 0.15, 1.0),
    Persona("job_seeker", 0.08, ("Software Engineer", "Account Executive", "Product Manager", "Data Scientist"),
            0.85, (10, 5000), -2.0, 0.0, 0.1, 1.5, 0.6),
    Persona("competitor", 0.03, ("Product Marketing Manager", "Competitive Intelligence Analyst", "VP Product",
            "Sales Engineer"), 0.0, (200, 5000), -3.5, 0.0, 1.2, 0.05, 0.8),
    Persona("hobbyist", 0.23, ("Developer", "Blogger", "Owner", "Enthusiast"), 0.95, (1, 5), -1.2, 0.03, 0.05,
            0.02, 0.7),
)  # fmt: skip

INDUSTRIES = (  # (name, share, effect on the true fit)
    ("software", 0.2, 0.5), ("saas", 0.12, 0.5), ("fintech", 0.08, 0.4), ("e-commerce", 0.08, 0.2),
    ("healthcare", 0.1, 0.4), ("manufacturing", 0.1, 0.1), ("education", 0.08, -0.6), ("retail", 0.08, 0.0),
    ("media", 0.06, -0.1), ("government", 0.04, -0.4), ("consulting", 0.06, -0.2),
)  # fmt: skip
COUNTRIES = (  # (code, share, effect on the true fit)
    ("US", 0.36, 0.3), ("GB", 0.1, 0.3), ("DE", 0.08, 0.3), ("CA", 0.05, 0.3), ("FR", 0.05, 0.2),
    ("NL", 0.03, 0.3), ("AU", 0.04, 0.2), ("SE", 0.02, 0.3), ("ES", 0.04, 0.1), ("SG", 0.03, 0.2),
    ("IN", 0.1, -0.6), ("BR", 0.06, -0.5), ("NG", 0.04, -0.8),
)  # fmt: skip
WEBMAIL = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "pm.me",
           "zoho.com")  # fmt: skip
COMPETITOR_DOMAINS = ("hubspot.com", "marketo.com", "6sense.com", "madkudu.com", "leadfeeder.com", "clearbit.com")
REJECT_REASONS = ("bad_fit", "no_intent", "wrong_contact", "duplicate", "competitor", "other")
FIRST_NAMES = ("ada", "alan", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances", "john", "radia",
               "tim", "hedy", "edsger", "sophie", "guido", "anita", "donald", "karen", "niklaus")  # fmt: skip
LAST_NAMES = ("lovelace", "turing", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie", "allen",
              "backus", "perlman", "berners-lee", "lamarr", "dijkstra", "wilson", "rossum", "borg")  # fmt: skip

EPISODE_PAGES = (  # pages a lead in a buying episode reads, with weights
    ("/pricing", 0.3), ("/demo", 0.1), ("/customers/case-studies", 0.15), ("/security", 0.12),
    ("/integrations", 0.15), ("/product/features", 0.2), ("/docs/getting-started", 0.1), ("/blog/lead-scoring", 0.05),
)  # fmt: skip
BROWSING_PAGES = (("/blog/lead-scoring", 0.45), ("/blog/marketing-ops", 0.25), ("/docs/api", 0.15), ("/about", 0.05),
                  ("/product/features", 0.1))  # fmt: skip
CAMPAIGN_LINKS = ("/blog/latest", "/webinars/next", "/pricing", "/customers/case-studies", "/product/whats-new")


REGULATED_INDUSTRY_FIT = {  # the "regulated" world's industry effects on the true fit
    "software": -0.3, "saas": -0.4, "fintech": 0.6, "e-commerce": -0.4, "healthcare": 1.0, "manufacturing": 0.8,
    "education": -0.2, "retail": -0.2, "media": -0.5, "government": 0.6, "consulting": -0.4,
}  # fmt: skip
SELF_SERVE_EPISODE_PAGES = (  # the "product-led" world's buying episode: a technical evaluation
    ("/pricing", 0.06), ("/demo", 0.02), ("/customers/case-studies", 0.06), ("/security", 0.16),
    ("/integrations", 0.25), ("/product/features", 0.1), ("/docs/getting-started", 0.2), ("/docs/api", 0.15),
)  # fmt: skip


@dataclass(frozen=True)
class World:
    """The population's true drivers of conversion, and how a buying episode shows in behaviour.

    The defaults are the `default` world (the values the generator always used); another world overrides
    some of them. Only parameters of draws the default world makes anyway, so it stays draw for draw the same.
    """

    name: str
    description: str
    seniority: Mapping[str, float] = field(default_factory=dict)  # persona -> buying power (else the persona's)
    industry_fit: Mapping[str, float] = field(default_factory=dict)  # industry -> fit effect (else INDUSTRIES')
    # Company-size effect on fit: the first (below, effect) whose head count bound the size is under.
    size_fit: tuple[tuple[int | None, float], ...] = ((10, -0.9), (5001, 0.5), (None, 0.3))
    intercept: float = -4.2  # true P(accepted) = sigmoid(intercept + fit_weight * fit + intent_weight * intent)
    fit_weight: float = 1.1
    intent_weight: float = 2.4
    episode_pages: tuple[tuple[str, float], ...] = EPISODE_PAGES
    demo_share: float = 0.65  # of hand-raises in a buying episode, the share that are demo requests (else trials)
    email_episode_lift: float = 0.35  # extra chance to open (and click) a campaign during a buying episode
    episode_pricing_link: float = 0.5  # chance a click in a buying episode goes to the pricing link
    pricing_curiosity: float = 1.0  # multiplies every persona's pricing-page curiosity outside an episode

    def size_effect(self, size: int | None) -> float:
        if size is None:
            return 0.0
        return next(effect for below, effect in self.size_fit if below is None or size < below)


DEFAULT_WORLD = World("default", "close to the default rule model: software buyers, seniority, demo and pricing")

# The realistic case: the rules were set by hand for one market and the truth is another. Both keep the
# default world's funnel: about one known lead in ten accepted by sales within the 26 weeks (9-11 % on
# 2,000 leads; B2B funnel benchmarks put lead -> sales-accepted at a few per cent to ~10 %, higher for
# contacts who gave their details, as every lead here did), and the same personas, traps and activity
# levels, so the worlds differ in WHO converts and WHAT buying looks like, not in how many convert.
WORLDS: dict[str, World] = {
    world.name: world
    for world in (
        DEFAULT_WORLD,
        # A compliance-heavy mid-market product: hospitals, manufacturers, banks and public bodies buy it;
        # software companies mostly build their own. Mid-size organisations (50-999) buy; enterprises have
        # year-long procurement and rarely convert within the window; the manager who owns the process
        # buys, executives delegate. The default rules reward software/SaaS, enterprise size and C-level
        # titles: wrong on all three, right on students, webmail and competitors.
        World(
            "regulated",
            "mid-market healthcare, manufacturing, finance and public sector buy; managers, not executives",
            seniority={"exec": 0.4, "manager": 1.2, "practitioner": 0.3},
            industry_fit=REGULATED_INDUSTRY_FIT,
            size_fit=((10, -0.9), (50, 0.0), (1000, 0.8), (5000, -0.1), (None, -0.8)),
            intercept=-3.9,
        ),
        # A product-led developer tool: buyers evaluate on their own (docs, integrations, security review,
        # a free trial) and seldom book a demo; everyone glances at the pricing page (it is public and the
        # product is cheap to try), and email clicks come from habitual readers, not from buying episodes.
        # Practitioners carry the purchase (bottom-up adoption). The default rules weigh demo requests,
        # pricing views and email clicks most, docs and integrations least: the opposite of this world.
        World(
            "product-led",
            "self-serve evaluation: docs, integrations and trials signal buying; pricing views and email clicks do not",
            seniority={"exec": 0.7, "manager": 0.7, "practitioner": 0.9},
            episode_pages=SELF_SERVE_EPISODE_PAGES,
            demo_share=0.15,
            email_episode_lift=0.0,
            episode_pricing_link=0.0,
            pricing_curiosity=3.0,
            intercept=-4.2,
        ),
    )
}


@dataclass(frozen=True)
class TruthRow:
    """What the generator knows and a model can only estimate: one row per lead."""

    email: str
    persona: str
    fit_latent: float
    intent: float  # intensity of the buying episode (0: none)
    true_probability: float  # P(sales accepts the lead), the oracle's score
    accepted: bool
    won: bool
    amount: float | None


@dataclass
class Population:
    events: list[LeadEvent] = field(default_factory=list)
    truth: list[TruthRow] = field(default_factory=list)
    start: datetime = DEFAULT_START
    end: datetime = DEFAULT_START
    world: str = DEFAULT_WORLD.name


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def true_probability(fit_latent: float, intent: float, world: World = DEFAULT_WORLD) -> float:
    """P(accepted): fit alone rarely converts, intent from a poor fit rarely does either; both together do."""
    return sigmoid(world.intercept + world.fit_weight * fit_latent + world.intent_weight * intent)


def _pick(rng: random.Random, table: tuple[tuple[Any, float, float], ...]) -> tuple[Any, float]:
    names = [row[0] for row in table]
    chosen = rng.choices(range(len(table)), weights=[row[1] for row in table])[0]
    return names[chosen], table[chosen][2]


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([row[0] for row in table], weights=[row[1] for row in table])[0]


class _LeadSim:
    """Draws one lead's profile, activity and outcome from its own random stream."""

    def __init__(self, index: int, seed: int, start: datetime, days: int, world: World = DEFAULT_WORLD) -> None:
        # One stream per lead: adding leads never changes the earlier ones.
        self.rng = random.Random(f"{seed}:{index}")
        self.index = index
        self.start = start
        self.days = days
        self.world = world
        self.events: list[LeadEvent] = []
        self.template: LeadEvent | None = None
        self.counter = 0
        rng = self.rng
        self.persona = rng.choices(PERSONAS, weights=[p.share for p in PERSONAS])[0]
        persona = self.persona
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        self.company = f"{rng.choice(('acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne'))}{index}"
        if persona.name == "competitor":
            domain = rng.choice(COMPETITOR_DOMAINS)
        elif persona.name == "student" and rng.random() > persona.webmail:
            domain = f"uni{index % 50}.edu"
        elif rng.random() < persona.webmail:
            domain = rng.choice(WEBMAIL)
        else:
            domain = f"{self.company}.example"
        self.email = f"{first}.{last}{index}@{domain}"
        self.title = rng.choice(persona.titles)
        self.size = (
            None if persona.sizes is None
            else int(math.exp(rng.uniform(math.log(persona.sizes[0]), math.log(persona.sizes[1]))))
        )  # fmt: skip
        self.industry, industry_fit = _pick(rng, INDUSTRIES)
        industry_fit = world.industry_fit.get(self.industry, industry_fit)
        self.country, country_fit = _pick(rng, COUNTRIES)
        seniority = world.seniority.get(persona.name, persona.seniority)
        self.fit = seniority + industry_fit + country_fit + world.size_effect(self.size) + rng.gauss(0, 0.3)
        self.visitor_id = f"v{seed}x{index:08d}".ljust(22, "0")[:22]
        self.apple_mail = rng.random() < 0.35  # Apple Mail Privacy Protection opens every message
        self.scanned = self.size is not None and self.size > 1000 and rng.random() < 0.4  # a corporate link scanner
        self.engaged = rng.betavariate(2, 5)  # how much this lead reads our email anyway
        self.subscribed_on = rng.randrange(0, max(1, days - 7))
        in_market = rng.random() < persona.in_market * (1.0 + 0.3 * max(self.fit, 0.0))
        self.intent = min(2.0, rng.lognormvariate(-0.1, 0.45)) if in_market else 0.0
        self.episode_start = rng.randrange(0, max(1, days - 10)) if in_market else None
        self.episode_days = rng.randint(7, 42)

    # -- events ----------------------------------------------------------------------------------------------
    def _at(self, day: int, hour: float) -> datetime:
        return self.start + timedelta(days=day, hours=hour)

    def _event(self, kind: str, source: str, at: datetime, **props: Scalar) -> LeadEvent:
        self.counter += 1
        attributes: dict[str, Scalar] = {}
        properties = {key: value for key, value in props.items() if value is not None}
        if kind == "form_submitted":
            attributes = self._form_attributes()
        fields: dict[str, Any] = {
            "event_id": f"{source}-{self.index}-{self.counter}",
            "source": source,
            "type": EventType(kind),
            "occurred_at": at,
            "received_at": at + timedelta(seconds=2),
            "attributes": attributes,
            "properties": properties,
        }
        if self.template is None:  # the lead's first event is fully validated (its email once, not per event)
            event = self.template = LeadEvent.model_validate({**fields, "email": self.email})
        else:  # the rest differ only in fields built right here, from our own enums and aware datetimes
            event = self.template.model_copy(update=fields)
        self.events.append(event)
        return event

    def _form_attributes(self) -> dict[str, Scalar]:
        attributes: dict[str, Scalar] = {"job_title": self.title, "country": self.country, "industry": self.industry}
        if self.size is not None:
            attributes["company_size"] = self.size
            attributes["company"] = self.company
        return attributes

    def _view(self, day: int, hour: float, path: str) -> None:
        self._event("page_viewed", "web", self._at(day, hour), page_url=f"{SITE}{path}", visitor_id=self.visitor_id)

    def _session(self, day: int, pages: list[str]) -> None:
        hour = self.rng.uniform(8, 18)
        for offset, path in enumerate(pages):
            self._view(day, hour + offset * 0.03, path)

    def _form(self, day: int, form_id: str, path: str) -> None:
        hour = self.rng.uniform(8, 19)
        self._view(day, hour - 0.02, path)
        self._event("form_submitted", "forms", self._at(day, hour), form_id=form_id, page_url=f"{SITE}{path}",
                    visitor_id=self.visitor_id)  # fmt: skip

    def in_episode(self, day: int) -> bool:
        return self.episode_start is not None and self.episode_start <= day < self.episode_start + self.episode_days

    def simulate(self) -> tuple[tuple[LeadEvent, ...], TruthRow]:
        rng, persona = self.rng, self.persona
        # An early form tells us who the lead is (newsletter or a content download).
        self._form(self.subscribed_on, rng.choice(("newsletter-signup", "whitepaper-download", "webinar-registration")),
                   "/resources")  # fmt: skip
        hand_raised_on: int | None = None
        unsubscribed = False
        for day in range(self.subscribed_on, self.days):
            weekday = (self.start + timedelta(days=day)).weekday()
            factor = WEEKDAY_FACTOR[weekday]
            episode = self.in_episode(day)
            # Background browsing; students, competitors and job seekers have their own favourite pages.
            if rng.random() < persona.browsing / 7 * factor:
                pages = [_weighted(rng, BROWSING_PAGES) for _ in range(rng.randint(1, 3))]
                if rng.random() < persona.pricing * self.world.pricing_curiosity:
                    pages.append("/pricing")
                if rng.random() < persona.careers / max(persona.browsing, 0.1):
                    pages.extend(["/careers", "/about"])
                self._session(day, pages)
            if persona.careers > 1 and rng.random() < persona.careers / 7 * factor:
                self._session(day, ["/careers", "/careers/open-roles", "/about"])
            if episode and rng.random() < min(0.9, 0.35 * self.intent * factor):
                self._session(day, [_weighted(rng, self.world.episode_pages) for _ in range(rng.randint(2, 6))])
                if hand_raised_on is None and rng.random() < 0.06 * self.intent:
                    hand_raised_on = day
                    self._form(day, "demo-request" if rng.random() < self.world.demo_share else "free-trial", "/demo")
                elif rng.random() < 0.04:
                    self._form(day, "case-study-download", "/customers/case-studies")
            # Students and competitors also ask for demos and trials now and then (the sales team's pet hate).
            if not episode and hand_raised_on is None and rng.random() < persona.pricing * 0.004 * factor:
                hand_raised_on = day
                self._form(day, "free-trial" if persona.name == "student" else "demo-request", "/pricing")
            if weekday == 1 and not unsubscribed:  # the Tuesday campaign
                unsubscribed = self._campaign(day, episode)
        truth = self._outcome(hand_raised_on)
        return tuple(self.events), truth

    def _campaign(self, day: int, episode: bool) -> bool:
        rng = self.rng
        sent = self._at(day, 14.0)
        message = f"cmp{day}-{self.index}"
        self._event("email_delivered", "ses", sent, message_id=message)
        if self.apple_mail:  # MPP fetches every message within minutes; the flag is missed now and then
            flagged = rng.random() < 0.9
            self._event("email_opened", "ses", sent + timedelta(minutes=rng.uniform(1, 20)), message_id=message,
                        automated=True if flagged else None)  # fmt: skip
        if self.scanned:  # the mail gateway clicks every link seconds after delivery
            for link in CAMPAIGN_LINKS[:3]:
                self._event("email_clicked", "ses", sent + timedelta(seconds=rng.uniform(2, 9)), message_id=message,
                            link_url=f"{SITE}{link}", automated=True if rng.random() < 0.85 else None)  # fmt: skip
        interest = self.engaged + (self.world.email_episode_lift if episode else 0.0)
        if rng.random() < interest:
            opened = sent + timedelta(hours=rng.uniform(0.5, 48))
            self._event("email_opened", "ses", opened, message_id=message)
            if rng.random() < interest * 0.5:
                pricing = episode and rng.random() < self.world.episode_pricing_link
                link = "/pricing" if pricing else rng.choice(CAMPAIGN_LINKS)
                self._event("email_clicked", "ses", opened + timedelta(minutes=1), message_id=message,
                            link_url=f"{SITE}{link}")  # fmt: skip
        if rng.random() < 0.004 * (1.5 - self.engaged):
            self._event("email_unsubscribed", "ses", sent + timedelta(hours=3), message_id=message)
            return True
        return False

    def _outcome(self, hand_raised_on: int | None) -> TruthRow:
        rng = self.rng
        probability = true_probability(self.fit, self.intent, self.world)
        accepted = rng.random() < probability
        won, amount = False, None
        if accepted:
            # Sales accepts near the end of the buying episode (or after a hand-raise, or outbound any time).
            if self.episode_start is not None:
                day = self.episode_start + self.episode_days + rng.randint(0, 10)
            elif hand_raised_on is not None:
                day = hand_raised_on + rng.randint(1, 5)
            else:
                day = rng.randrange(self.subscribed_on, self.days)
            if day < self.days:
                self._event("sales_accepted", "crm", self._at(day, 16))
                won = rng.random() < sigmoid(-0.6 + 0.6 * self.fit)
                size = self.size or 5
                amount = round(rng.lognormvariate(math.log(4000 + 40 * size**0.8), 0.4), -2)
                closed = day + rng.randint(14, 70)
                if closed < self.days:
                    kind = "deal_won" if won else "deal_lost"
                    currency = "EUR" if self.country in {"DE", "FR", "NL", "ES"} else "USD"
                    self._event(kind, "crm", self._at(closed, 17), amount=amount, currency=currency)
            else:
                accepted = False  # accepted after the window: not observed, so not a conversion here
        elif hand_raised_on is not None and hand_raised_on + 3 < self.days:
            self._event("sales_rejected", "crm", self._at(hand_raised_on + rng.randint(1, 3), 16),
                        reason=self._reject_reason())  # fmt: skip
        return TruthRow(self.email, self.persona.name, round(self.fit, 4), round(self.intent, 4), probability,
                        accepted, won and accepted, amount if accepted else None)  # fmt: skip

    def _reject_reason(self) -> str:
        name = self.persona.name
        if name == "competitor":
            return "competitor"
        if self.rng.random() < 0.05:
            return "duplicate"
        if name in {"student", "job_seeker", "practitioner"}:
            return "wrong_contact"
        return "bad_fit" if self.fit < 0.5 else "no_intent"


def simulate_population(
    leads: int = 400,
    *,
    seed: int = 7,
    start: datetime = DEFAULT_START,
    weeks: int = 26,
    redeliver: float = 0.01,
    world: str = DEFAULT_WORLD.name,
) -> Population:
    """`leads` simulated leads over `weeks` weeks from `start`, their events in time order, and the truth.

    `redeliver` is the share of events delivered twice (the same event id again: a provider retry), which
    the scorer must count once. `world` names the true drivers of conversion (`WORLDS`).
    """
    if world not in WORLDS:
        raise ValueError(f"no world {world!r} (worlds: {', '.join(WORLDS)})")
    days = weeks * 7
    population = Population(start=start, end=start + timedelta(days=days), world=world)
    retries = random.Random(f"{seed}:redeliveries")
    for index in range(leads):
        sim = _LeadSim(index, seed, start, days, WORLDS[world])
        events, truth = sim.simulate()
        population.truth.append(truth)
        population.events.extend(events)
        population.events.extend(event for event in events if retries.random() < redeliver)
    population.events.sort(key=lambda event: (event.occurred_at, event.event_id))
    return population
