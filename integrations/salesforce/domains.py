"""Company domains: the part of an email address or of an Account's Website that names
a company, and the free-mail and consumer domains that never do. Pure Python: the
auto-sync's "Domain" step of the match order (see README, "Company domain") reads it.

The rule, in one place:
- an email's domain and a Website's host are compared lower-cased, without a trailing
  dot; a Website loses its scheme, port, path and a leading `www.`
  ("https://www.initech.example/about" is initech.example);
- an attendee on a subdomain of a Website's domain is at that company
  (mail.initech.example is at initech.example); the reverse is not (an attendee at
  initech.example is not at a Website sales.initech.example). The most specific
  Website domain wins;
- free-mail and consumer domains (`FREE_MAIL_DOMAINS`, and the tenant's own additions)
  and their subdomains never name a company, nor do the tenant's internal domains;
- a domain is never shortened to a bare suffix: "example", "co.uk" or "com.au" name no
  company.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from tenants.emails import email_domain, email_is_internal

# The match-order step that links an attendee to the Account whose Website is on the
# attendee's email domain. Not in the default order: a tenant adds it.
DOMAIN_LEVEL = "Domain"

# Free-mail, consumer ISP and disposable-address domains: anyone may have an address
# there, so it says nothing about a company. A subdomain of one is free-mail too.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google, Microsoft, Yahoo, Apple, AOL
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.de",
        "outlook.fr",
        "outlook.es",
        "outlook.it",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "hotmail.fr",
        "hotmail.es",
        "hotmail.it",
        "live.com",
        "live.co.uk",
        "live.de",
        "live.fr",
        "msn.com",
        "passport.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.de",
        "yahoo.fr",
        "yahoo.es",
        "yahoo.it",
        "yahoo.ca",
        "yahoo.com.au",
        "yahoo.co.jp",
        "yahoo.co.in",
        "ymail.com",
        "rocketmail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aim.com",
        # Privacy-minded and independent providers
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tuta.io",
        "tutamail.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        "zoho.com",
        "zohomail.com",
        "mailbox.org",
        "posteo.de",
        "posteo.net",
        "hushmail.com",
        "runbox.com",
        "disroot.org",
        "riseup.net",
        "mail.com",
        "email.com",
        "usa.com",
        "inbox.com",
        # Germany, Austria, Switzerland
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "arcor.de",
        "online.de",
        "bluewin.ch",
        "aon.at",
        # France, Italy, Spain, Benelux
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "telefonica.net",
        "terra.es",
        "skynet.be",
        "telenet.be",
        "ziggo.nl",
        "kpnmail.nl",
        "planet.nl",
        "home.nl",
        # United Kingdom and Ireland
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "talktalk.net",
        "ntlworld.com",
        "blueyonder.co.uk",
        "eircom.net",
        # North America and Oceania
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "earthlink.net",
        "optonline.net",
        "juno.com",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
        "xtra.co.nz",
        # Eastern Europe and Asia
        "yandex.com",
        "yandex.ru",
        "ya.ru",
        "mail.ru",
        "bk.ru",
        "list.ru",
        "inbox.ru",
        "rambler.ru",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "rediffmail.com",
        # Disposable addresses
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "yopmail.com",
        "temp-mail.org",
        "trashmail.com",
    }
)

# Second-level labels that registries hand out names below, under a two-letter country
# code ("co.uk", "com.au", "ac.jp"): such a pair is a suffix, never a company's domain.
_PUBLIC_SECOND_LEVELS = frozenset(
    {"ac", "co", "com", "edu", "gob", "gov", "govt", "ltd", "mil", "ne", "net", "or", "org", "plc"}
)


def domain_clean(raw: str) -> str:
    """Lower-cased, trimmed, without a leading "@" or a trailing dot."""
    return (raw or "").strip().lower().lstrip("@").rstrip(".")


def is_suffix(domain: str) -> bool:
    """Whether `domain` is a bare suffix that names no company: one label ("example"),
    or a registry's second level under a country code ("co.uk", "com.au")."""
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        return True
    return len(labels) == 2 and len(labels[1]) == 2 and labels[0] in _PUBLIC_SECOND_LEVELS


def website_domain(website: str) -> str:
    """The domain an Account's Website names: its host, lower-cased, without scheme,
    port, path or a leading `www.`; "" when it names none.

    "https://www.initech.example/" and "initech.example/about" are initech.example.
    """
    text = (website or "").strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    if host.startswith("www.") and not is_suffix(host[4:]):
        host = host[4:]
    return "" if is_suffix(host) else host


def is_free_mail(domain: str, extra: Iterable[str] = ()) -> bool:
    """Whether `domain` is a free-mail or consumer domain (the product's list, or one of
    the tenant's `extra`), or a subdomain of one."""
    domain = domain_clean(domain)
    listed = FREE_MAIL_DOMAINS | {domain_clean(d) for d in extra if domain_clean(d)}
    return any(d in listed for d in domain_and_parents(domain, keep_suffixes=True))


def company_domain(
    email: str, *, internal_domains: Sequence[str], free_mail_extra: Iterable[str] = ()
) -> str:
    """The domain of an external attendee's address that may name a company; "" when it
    names none: no domain, the tenant's own, a free-mail or consumer domain, a suffix."""
    domain = email_domain(email).rstrip(".")
    if not domain or is_suffix(domain) or email_is_internal(email, internal_domains):
        return ""
    if is_free_mail(domain, free_mail_extra):
        return ""
    return domain


def domain_and_parents(domain: str, *, keep_suffixes: bool = False) -> list[str]:
    """`domain` and the domains it is a subdomain of, most specific first, down to (and
    without, unless `keep_suffixes`) a bare suffix:
    mail.initech.example -> [mail.initech.example, initech.example]."""
    labels = domain_clean(domain).split(".")
    out = []
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        if not keep_suffixes and is_suffix(candidate):
            break
        out.append(candidate)
    return out
