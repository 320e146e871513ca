"""The demo's scripted scenario: 24 believable B2B leads and what they do over two weeks.

Pure data: `form_submissions(now)` returns the webhook bodies in the order they are sent. Some leads become
sales-ready (demo requests from decision-makers at target companies), some stall at MQL, some never
qualify (students, competitors, free webmail, tiny companies). A few webhooks are sent twice, as form
tools do when they retry, to show that nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SITE = "https://www.leadscore-demo.example"


@dataclass(frozen=True)
class Persona:
    key: str
    first_name: str
    last_name: str
    email: str
    company: str
    job_title: str
    company_size: int | None
    industry: str | None
    country: str | None
    # (days before now, form id, page path); the journey in time order
    journey: list[tuple[float, str, str]] = field(default_factory=list)
    retried: tuple[int, ...] = ()  # steps whose webhook is delivered twice


PERSONAS: list[Persona] = [
    Persona(
        "ada",
        "Ada",
        "Lovelace",
        "ada@analytical-engines.example",
        "Analytical Engines",
        "VP Engineering",
        250,
        "Software",
        "GB",
        [
            (13, "whitepaper-download", "/resources/scoring-guide"),
            (9, "webinar-registration", "/events"),
            (4, "pricing-calculator", "/pricing"),
            (1, "demo-request", "/pricing"),
        ],
        retried=(3,),
    ),
    Persona(
        "grace",
        "Grace",
        "Hopper",
        "grace.hopper@cobol-cloud.example",
        "COBOL Cloud",
        "CTO",
        1200,
        "SaaS",
        "US",
        [
            (6, "case-study-download", "/customers/acme"),
            (2, "pricing-calculator", "/pricing"),
            (0.5, "contact-sales", "/contact"),
        ],
    ),
    Persona(
        "linus",
        "Linus",
        "Berg",
        "linus@fjord-fintech.example",
        "Fjord Fintech",
        "Head of Growth",
        400,
        "Fintech",
        "NO",
        [
            (11, "newsletter-signup", "/blog/lead-scoring-101"),
            (7, "webinar-registration", "/events"),
            (3, "free-trial", "/signup"),
            (1, "pricing-calculator", "/pricing"),
        ],
    ),
    Persona(
        "margaret",
        "Margaret",
        "Hamilton",
        "m.hamilton@apollo-systems.example",
        "Apollo Systems",
        "Chief Revenue Officer",
        3500,
        "Software",
        "US",
        [(2, "demo-request", "/demo")],
        retried=(0,),
    ),
    Persona(
        "ken",
        "Ken",
        "Thompson",
        "ken@unix-tools.example",
        "Unix Tools",
        "Engineering Manager",
        80,
        "Software",
        "DE",
        [
            (12, "whitepaper-download", "/resources/ebook"),
            (8, "case-study-download", "/customers"),
            (5, "webinar-registration", "/events"),
        ],
    ),
    Persona(
        "barbara",
        "Barbara",
        "Liskov",
        "barbara@substitution.example",
        "Substitution Inc",
        "Director of Marketing Operations",
        150,
        "E-commerce",
        "FR",
        [
            (10, "whitepaper-download", "/resources/guide"),
            (6, "pricing-calculator", "/pricing"),
            (6, "pricing-calculator", "/pricing"),
            (2, "webinar-registration", "/events"),
        ],
    ),
    Persona(
        "edsger",
        "Edsger",
        "Dijkstra",
        "edsger@shortest-path.example",
        "Shortest Path BV",
        "Founder & CEO",
        60,
        "Software",
        "NL",
        [(3, "free-trial", "/signup"), (0.2, "demo-request", "/pricing")],
    ),
    Persona(
        "frances",
        "Frances",
        "Allen",
        "frances@optimizing-compilers.example",
        "Optimizing Compilers",
        "VP Product",
        700,
        "Internet",
        "CA",
        [(9, "ebook-download", "/resources/ebook"), (4, "webinar-registration", "/events")],
    ),
    Persona(
        "alan",
        "Alan",
        "Kay",
        "alan.kay@gmail.com",
        "",
        "Student",
        None,
        "Education",
        "US",
        [
            (8, "whitepaper-download", "/resources/guide"),
            (3, "newsletter-signup", "/blog"),
            (1, "webinar-registration", "/events"),
        ],
    ),
    Persona(
        "niklaus",
        "Niklaus",
        "Wirth",
        "niklaus@hubspot.com",
        "HubSpot",
        "Product Marketing Manager",
        5000,
        "Software",
        "CH",
        [
            (5, "pricing-calculator", "/pricing"),
            (4, "pricing-calculator", "/pricing"),
            (2, "whitepaper-download", "/resources/guide"),
        ],
    ),
    Persona(
        "radia",
        "Radia",
        "Perlman",
        "radia@spanning-tree.example",
        "Spanning Tree Networks",
        "Network Engineer",
        45,
        "Telecommunications",
        "US",
        [(7, "whitepaper-download", "/resources/guide")],
    ),
    Persona(
        "tim",
        "Tim",
        "Berners",
        "tim@webfoundry.example",
        "Web Foundry",
        "Head of Sales Operations",
        300,
        "SaaS",
        "IE",
        [
            (13, "newsletter-signup", "/blog"),
            (6, "case-study-download", "/customers"),
            (2, "pricing-calculator", "/pricing"),
            (0.3, "contact-sales", "/contact"),
        ],
    ),
    Persona(
        "katherine",
        "Katherine",
        "Johnson",
        "kjohnson@orbital-analytics.example",
        "Orbital Analytics",
        "Data Analyst",
        1800,
        "Financial Services",
        "US",
        [(9, "whitepaper-download", "/resources/guide"), (5, "webinar-registration", "/events")],
    ),
    Persona(
        "john",
        "John",
        "Backus",
        "jb@yahoo.com",
        "Freelance",
        "Consultant",
        1,
        None,
        "US",
        [(4, "newsletter-signup", "/blog"), (2, "whitepaper-download", "/resources/guide")],
    ),
    Persona(
        "hedy",
        "Hedy",
        "Lamarr",
        "hedy@frequency-hop.example",
        "Frequency Hop",
        "COO",
        120,
        "SaaS",
        "AT",
        [
            (10, "webinar-registration", "/events"),
            (7, "case-study-download", "/customers"),
            (3, "pricing-calculator", "/pricing"),
        ],
    ),
    Persona(
        "donald",
        "Donald",
        "Knuth",
        "don@taocp.example",
        "TAOCP Press",
        "Intern",
        20,
        "Publishing",
        "US",
        [(6, "ebook-download", "/resources/ebook"), (2, "webinar-registration", "/events")],
    ),
    Persona(
        "sophie",
        "Sophie",
        "Wilson",
        "sophie@arm-twist.example",
        "Arm Twist",
        "VP Engineering",
        900,
        "Software",
        "GB",
        [(5, "whitepaper-download", "/resources/guide"), (1, "free-trial", "/signup")],
    ),
    Persona(
        "dennis",
        "Dennis",
        "Ritchie",
        "dmr@c-systems.example",
        "C Systems",
        "IT Manager",
        2500,
        "Manufacturing",
        "DE",
        [(8, "newsletter-signup", "/blog"), (3, "case-study-download", "/customers")],
    ),
    Persona(
        "adele",
        "Adele",
        "Goldberg",
        "adele@smalltalk-labs.example",
        "Smalltalk Labs",
        "Director of IT",
        350,
        "Software",
        "SE",
        [
            (12, "whitepaper-download", "/resources/guide"),
            (8, "pricing-calculator", "/pricing"),
            (4, "webinar-registration", "/events"),
            (0.1, "demo-request", "/demo"),
        ],
    ),
    Persona(
        "claude",
        "Claude",
        "Shannon",
        "claude@information-theory.example",
        "Information Theory Co",
        "Research Scientist",
        15,
        "Research",
        "US",
        [(3, "whitepaper-download", "/resources/guide")],
    ),
    Persona(
        "mary",
        "Mary",
        "Jackson",
        "mary.jackson@outlook.com",
        "",
        "Marketing Coordinator",
        None,
        None,
        "US",
        [(2, "newsletter-signup", "/blog")],
    ),
    Persona(
        "bjarne",
        "Bjarne",
        "Stroustrup",
        "bjarne@zero-overhead.example",
        "Zero Overhead",
        "CTO",
        30,
        "Software",
        "DK",
        [(9, "webinar-registration", "/events"), (2, "case-study-download", "/customers")],
    ),
    Persona(
        "anita",
        "Anita",
        "Borg",
        "anita@systers.example",
        "Systers",
        "Head of Partnerships",
        600,
        "SaaS",
        "US",
        [
            (11, "ebook-download", "/resources/ebook"),
            (5, "pricing-calculator", "/pricing"),
            (5, "pricing-calculator", "/pricing"),
            (5, "pricing-calculator", "/pricing"),
        ],
    ),
    Persona(
        "guido",
        "Guido",
        "Rossum",
        "guido@batteries-included.example",
        "Batteries Included",
        "VP Marketing",
        220,
        "Software",
        "NL",
        [(1, "webinar-registration", "/events")],
    ),
]


def _body(persona: Persona, step: int, when: datetime, form_id: str, path: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "submission_id": f"demo-{persona.key}-{step}",
        "form_id": form_id,
        "submitted_at": when.isoformat(),
        "page_url": f"{SITE}{path}",
        "email": persona.email,
        "first_name": persona.first_name,
        "last_name": persona.last_name,
        "job_title": persona.job_title,
        "country": persona.country,
        "fields": {"utm_source": ("linkedin", "google", "newsletter")[step % 3]},
    }
    if persona.company:
        body["company"] = persona.company
    if persona.company_size:
        body["company_size"] = persona.company_size
    if persona.industry:
        body["industry"] = persona.industry
    return {key: value for key, value in body.items() if value is not None}


def form_submissions(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(persona key, webhook body) in the order a real site would have sent them, retries included."""
    timeline: list[tuple[datetime, str, dict[str, Any]]] = []
    for persona in PERSONAS:
        for step, (days_ago, form_id, path) in enumerate(persona.journey):
            when = now - timedelta(days=days_ago)
            body = _body(persona, step, when, form_id, path)
            timeline.append((when, persona.key, body))
            if step in persona.retried:
                timeline.append((when + timedelta(seconds=30), persona.key, body))
    timeline.sort(key=lambda entry: entry[0])
    return [(key, body) for _, key, body in timeline]
