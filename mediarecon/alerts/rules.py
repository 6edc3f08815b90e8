"""The alert rules file: thresholds per channel, which findings alert, source freshness, routing.

Read with its line numbers so that a mistake is reported as `alert_rules.yml, line 12: ...` before a run
starts. Channels are apprise URLs from MEDIARECON_ALERT_URLS; the file only names them.
"""

from __future__ import annotations

import re
from functools import cache
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mediarecon.paths import read_seed

DEFAULT_RULES_PATH = Path(__file__).with_name("alert_rules.yml")
SEVERITIES = ("low", "medium", "high", "critical")
# `name=scheme://...`: the name is optional; a comma starts a new URL only when a URL follows it, so
# `to=a@x.fr,b@y.fr` inside a URL stays whole.
_URL_START = r"(?:[a-z0-9_-]+=)?[a-z][a-z0-9+.-]*://"
_SPLIT = re.compile(r"[,\s]+(?=" + _URL_START + ")", re.IGNORECASE)
_NAMED = re.compile(r"^([a-z0-9_-]+)=([a-z][a-z0-9+.-]*://.*)$", re.IGNORECASE)


class AlertRulesError(ValueError):
    pass


def parse_channels(raw: str | None) -> dict[str, str]:
    """MEDIARECON_ALERT_URLS -> {channel name: apprise URL}, in the order given."""
    channels: dict[str, str] = {}
    for n, item in enumerate(p.strip() for p in _SPLIT.split((raw or "").strip()) if p.strip()):
        named = _NAMED.match(item)
        name, url = (named.group(1).lower(), named.group(2)) if named else (f"channel{n + 1}", item)
        if "://" not in url:
            # never quote the item: it may be a URL with a password in it
            raise AlertRulesError(f"MEDIARECON_ALERT_URLS: item {n + 1} is not an apprise URL (scheme://...)")
        if name in channels or name == "all":
            raise AlertRulesError(f"MEDIARECON_ALERT_URLS: channel name {name!r} is used twice or reserved")
        channels[name] = url
    return channels


@dataclass(frozen=True)
class DropRule:
    share_pct: float
    min_baseline: int
    min_days: int


@dataclass(frozen=True)
class Route:
    channels: tuple[str, ...]
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRules:
    path: Path
    baseline_weeks: int
    drops: dict[str, DropRule]
    bounce_rise: dict[str, float]
    warn_days_before_due: int
    findings_min_severity: str
    freshness_days: dict[str, int]
    default_route: Route
    advertiser_routes: dict[str, Route] = field(default_factory=dict)

    def dbt_vars(self) -> dict:
        return {
            "drop_rules": {ch: r.__dict__ for ch, r in self.drops.items()},
            "drop_baseline_weeks": self.baseline_weeks,
            "bounce_rise": dict(self.bounce_rise),
            "payment_warning_days_before_due": self.warn_days_before_due,
        }

    def finding_alerts(self, severity: str | None) -> bool:
        return SEVERITIES.index(severity or "low") >= SEVERITIES.index(self.findings_min_severity)

    def route(self, advertiser_id: str | None, channels: dict[str, str]) -> dict[str, tuple[str, ...]]:
        """{channel name: extra e-mail recipients} for an alert of this advertiser."""
        names = list(self.default_route.channels)
        extra = self.advertiser_routes.get(advertiser_id or "")
        if extra:
            names += list(extra.channels)
        if "all" in names:
            names = list(channels)
        emails = extra.emails if extra else ()
        return {n: emails for n in dict.fromkeys(names) if n in channels}


def rules_path(settings) -> Path:
    """MEDIARECON_ALERT_RULES, else <home>/alert_rules.yml, else the shipped default."""
    if settings.alert_rules:
        return settings.alert_rules
    local = settings.home.root / "alert_rules.yml"
    return local if local.exists() else DEFAULT_RULES_PATH


def channels_of(settings) -> dict[str, str]:
    """The named channels of MEDIARECON_ALERT_URLS."""
    return parse_channels(settings.alert_urls.reveal())


def rules_of(settings) -> AlertRules:
    """The rules file of these settings, checked against their channels."""
    return load_rules(rules_path(settings), channels_of(settings))


@cache
def shipped_rules() -> AlertRules:
    """The shipped file: the one source of every default threshold (a home's file may leave keys out)."""
    return load_rules(DEFAULT_RULES_PATH, {})


class _Reader:
    """Walks the composed YAML nodes, so every error can name the line it is about."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node, message: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise AlertRulesError(f"{self.path}, line {line}: {message}")

    def mapping(self, node, where: str, allowed: set[str] | None, required: set[str] = frozenset()) -> dict:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where} must be a mapping (key: value lines)")
        out = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if allowed is not None and key not in allowed:
                self.fail(key_node, f"unknown key {where}.{key} (expected one of: {', '.join(sorted(allowed))})")
            if key in out:
                self.fail(key_node, f"{where}.{key} is given twice")
            out[key] = value_node
        missing = sorted(set(required) - set(out))
        if missing:
            self.fail(node, f"{where} lacks {', '.join(missing)}")
        return out

    def number(self, node, where: str, lo: float, hi: float | None = None, integer: bool = False) -> float:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"{where} must be a number")
        try:
            value = int(node.value) if integer else float(node.value)
        except ValueError:
            self.fail(node, f"{where}: {node.value!r} is not {'a whole number' if integer else 'a number'}")
        if value < lo or (hi is not None and value > hi):
            self.fail(node, f"{where}: {node.value} must be between {lo} and {hi if hi is not None else 'any'}")
        return value

    def names(self, node, where: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(v, yaml.ScalarNode) for v in node.value):
            self.fail(node, f"{where} must be a list, e.g. [name1, name2]")
        return tuple(v.value for v in node.value)


def load_rules(path: Path, channels: dict[str, str]) -> AlertRules:
    """Read and check the rules file; AlertRulesError names the file and line of the first mistake. A key
    left out takes the shipped file's value."""
    r = _Reader(path)
    default = None if path == DEFAULT_RULES_PATH else shipped_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise AlertRulesError(f"cannot read the alert rules file {path}: {e.strerror}")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        raise AlertRulesError(f"{path}, line {line}: not valid YAML ({getattr(e, 'problem', None) or e})")
    sections = {"drops", "bounce_rise", "payment_due", "findings", "freshness_days", "routing"}
    top = r.mapping(root, "rules", sections, {"drops", "routing"} if default else sections)

    d = r.mapping(top["drops"], "drops", {"baseline_weeks", "ad_server", "email"},
                  {"ad_server", "email"} if default else {"baseline_weeks", "ad_server", "email"})
    drops = {}
    for channel in ("ad_server", "email"):
        c = r.mapping(d[channel], f"drops.{channel}", {"share_pct", "min_baseline", "min_days"},
                      {"share_pct", "min_baseline", "min_days"})
        drops[channel] = DropRule(
            share_pct=r.number(c["share_pct"], f"drops.{channel}.share_pct", 0, 100),
            min_baseline=r.number(c["min_baseline"], f"drops.{channel}.min_baseline", 0, integer=True),
            min_days=r.number(c["min_days"], f"drops.{channel}.min_days", 1, 60, integer=True),
        )
    weeks = (r.number(d["baseline_weeks"], "drops.baseline_weeks", 2, 26, integer=True) if "baseline_weeks" in d
             else default.baseline_weeks)

    bounce_keys = {"factor", "min_rate_pct", "min_attempted", "baseline_days"}
    bounce = dict(default.bounce_rise) if default else {}
    if "bounce_rise" in top:
        b = r.mapping(top["bounce_rise"], "bounce_rise", bounce_keys, set() if default else bounce_keys)
        limits = {"factor": (1, None, False), "min_rate_pct": (0, 100, False), "min_attempted": (1, None, True),
                  "baseline_days": (7, 120, True)}
        for key, node in b.items():
            lo, hi, integer = limits[key]
            bounce[key] = r.number(node, f"bounce_rise.{key}", lo, hi, integer)

    warn_days = default.warn_days_before_due if default else None
    if "payment_due" in top:
        p = r.mapping(top["payment_due"], "payment_due", {"warn_days_before_due"}, set() if default else {"warn_days_before_due"})
        if "warn_days_before_due" in p:
            warn_days = r.number(p["warn_days_before_due"], "payment_due.warn_days_before_due", 1, 49, integer=True)

    min_severity = default.findings_min_severity if default else None
    if "findings" in top:
        f = r.mapping(top["findings"], "findings", {"min_severity"}, set() if default else {"min_severity"})
        if "min_severity" in f:
            min_severity = f["min_severity"].value
            if min_severity not in SEVERITIES:
                r.fail(f["min_severity"], f"findings.min_severity: {min_severity!r} is not one of {', '.join(SEVERITIES)}")

    freshness = {}
    if "freshness_days" in top:
        from mediarecon.ingest.sources import LANDED_ONLY, SOURCES

        known = set(SOURCES) | set(LANDED_ONLY)
        fr = r.mapping(top["freshness_days"], "freshness_days", known)
        freshness = {s: r.number(n, f"freshness_days.{s}", 1, 366, integer=True) for s, n in fr.items()}

    routing = r.mapping(top["routing"], "routing", {"default", "advertisers"}, {"default"})
    known_channels = set(channels) | {"all"}

    def check_channels(node, where):
        names = r.names(node, where)
        if channels:  # with no channel configured, alerts are kept and listed, not sent
            for name in names:
                if name not in known_channels:
                    r.fail(node, f"{where}: channel {name!r} is not in MEDIARECON_ALERT_URLS "
                                 f"(channels: {', '.join(sorted(known_channels))})")
        return names

    default = Route(check_channels(routing["default"], "routing.default"))
    routes = {}
    if "advertisers" in routing:
        advertisers = {row["advertiser_id"] for row in read_seed("advertisers")}
        adv = r.mapping(routing["advertisers"], "routing.advertisers", None)
        for key_node, value_node in routing["advertisers"].value:
            adv_id = key_node.value
            if adv_id not in advertisers:
                r.fail(key_node, f"routing.advertisers: {adv_id!r} is not an advertiser id of the seed advertisers")
            spec = r.mapping(adv[adv_id], f"routing.advertisers.{adv_id}", {"channels", "emails"})
            emails = r.names(spec["emails"], f"routing.advertisers.{adv_id}.emails") if "emails" in spec else ()
            for e in emails:
                if not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", e):
                    r.fail(spec["emails"], f"routing.advertisers.{adv_id}.emails: {e!r} is not an e-mail address")
            chans = (check_channels(spec["channels"], f"routing.advertisers.{adv_id}.channels")
                     if "channels" in spec else ())
            routes[adv_id] = Route(chans, emails)
    return AlertRules(path=path, baseline_weeks=weeks, drops=drops, bounce_rise=bounce,
                      warn_days_before_due=warn_days, findings_min_severity=min_severity,
                      freshness_days=freshness, default_route=default, advertiser_routes=routes)
