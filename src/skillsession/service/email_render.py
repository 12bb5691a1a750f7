"""How an e-mail reads: one `Content` rendered as a plain-text part and an HTML part that say
the same. Pure: no I/O, no settings.

The HTML is what common mail clients show well: a table layout, inline styles only, no images,
fonts or other external resources, every value escaped. Times are written for a person, in
their zone: "Tuesday 1 December, 09:00–10:00 (Europe/Berlin)".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

SIGNATURE = "The SkillSession team"
# English names, whatever the process's locale (strftime's %A/%B follow LC_TIME)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Content:
    """What one e-mail says, in order: greeting, paragraphs, quoted lines (label, text: e.g. a
    student's message), the action (a button and its link), the footer lines."""

    first_name: str | None
    paragraphs: list[str]
    quotes: list[tuple[str, str]] = field(default_factory=list)
    action: Action | None = None
    footer: list[str] = field(default_factory=list)
    unsubscribe_url: str | None = None

    @property
    def greeting(self) -> str:
        name = (self.first_name or "").strip()
        return f"Hello {name}," if name else "Hello,"


def when_text(start: datetime, end: datetime, tz: ZoneInfo, now: datetime) -> str:
    """`Tuesday 1 December, 09:00–10:00 (Europe/Berlin)`; the year only when it is not the
    current one there, the end's day only when it differs."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    this_year = now.astimezone(tz).year

    def day(moment: datetime) -> str:
        text = f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]}"
        return text if moment.year == this_year else f"{text} {moment.year}"

    if local_end.date() == local_start.date():
        span = f"{day(local_start)}, {local_start:%H:%M}–{local_end:%H:%M}"
    else:
        span = f"{day(local_start)}, {local_start:%H:%M} – {day(local_end)}, {local_end:%H:%M}"
    return f"{span} ({tz.key})"


def text_part(content: Content) -> str:
    lines = [content.greeting, ""]
    for paragraph in content.paragraphs:
        lines += [paragraph, ""]
    for label, quoted in content.quotes:
        lines.append(f"{label}:")
        lines += [f"> {line}" for line in quoted.splitlines() or [""]]
        lines.append("")
    if content.action:
        lines += [f"{content.action.label}: {content.action.url}", ""]
    lines += [SIGNATURE]
    footer = list(content.footer)
    if content.unsubscribe_url:
        footer.append(f"Stop these e-mails: {content.unsubscribe_url}")
    if footer:
        lines += ["", "--", *footer]
    return "\n".join(lines) + "\n"


FONT = "font-family:Arial,Helvetica,sans-serif;"
P = f'style="margin:0 0 16px;{FONT}font-size:16px;line-height:24px;color:#1f2328"'


def html_part(content: Content, title: str) -> str:
    body = [f"<p {P}>{escape(content.greeting)}</p>"]
    body += [f"<p {P}>{_html_text(p)}</p>" for p in content.paragraphs]
    for label, quoted in content.quotes:
        body.append(
            f'<p style="margin:0 0 4px;{FONT}font-size:14px;color:#57606a">{escape(label)}:</p>'
            '<blockquote style="margin:0 0 16px;padding:8px 12px;border-left:4px solid #d0d7de;'
            f'{FONT}font-size:16px;line-height:24px;color:#1f2328">{_html_text(quoted)}</blockquote>'
        )
    if content.action:
        url = escape(content.action.url, quote=True)
        body.append(
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
            'style="margin:8px 0 16px"><tr><td style="border-radius:6px;background:#1d4ed8">'
            f'<a href="{url}" style="display:inline-block;padding:12px 22px;{FONT}'
            'font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px">'
            f"{escape(content.action.label)}</a></td></tr></table>"
            f'<p style="margin:0 0 16px;{FONT}font-size:13px;color:#57606a">'
            f'Or open this link: <a href="{url}" style="color:#1d4ed8">{escape(content.action.url)}</a></p>'
        )
    body.append(f"<p {P}>{escape(SIGNATURE)}</p>")
    footer = [escape(line) for line in content.footer]
    if content.unsubscribe_url:
        url = escape(content.unsubscribe_url, quote=True)
        footer.append(f'<a href="{url}" style="color:#57606a">Stop these e-mails</a>')
    footer_html = (
        f'<p style="margin:16px 0 0;{FONT}font-size:12px;line-height:18px;color:#57606a">'
        + "<br>".join(footer)
        + "</p>"
        if footer
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="margin:0;padding:0;background:#f4f5f7">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background:#f4f5f7"><tr><td align="center" style="padding:24px 12px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:560px;background:#ffffff;border-radius:8px">'
        f'<tr><td style="padding:20px 28px 0;{FONT}font-size:14px;font-weight:bold;'
        'color:#1d4ed8;letter-spacing:1px">SKILLSESSION</td></tr>'
        f'<tr><td style="padding:16px 28px 24px">{"".join(body)}{footer_html}</td></tr>'
        "</table></td></tr></table></body></html>"
    )


def _html_text(value: str) -> str:
    """Escaped, line breaks kept."""
    return "<br>".join(escape(line) for line in value.splitlines())
