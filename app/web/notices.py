"""The words of notifications: a kind and its parameters become a sentence in the reader's
language when a page shows it or a mail is sent (nothing is stored as text).  Also what the page
header shows of the signed-in tenant, and the postman's set-up when an SMTP server is configured."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from app.services.dashboards import DashboardService, Header
from app.services.notifications import (
    AGREEMENT_RECORDED,
    PLACEMENT_ACCEPTED,
    PLACEMENT_DECLINED,
    POSTMAN_KEY,
    RUN_PUBLISHED,
    SUPPLEMENTARY_PUBLISHED,
)
from app.settings import Settings
from app.web.core import N_, env
from app.web.i18n import LOCALES, Gettext

TITLES = {
    RUN_PUBLISHED: N_("Placements published"),
    SUPPLEMENTARY_PUBLISHED: N_("Supplementary round published"),
    PLACEMENT_ACCEPTED: N_("Offer accepted"),
    PLACEMENT_DECLINED: N_("Offer declined"),
    AGREEMENT_RECORDED: N_("Tripartite agreement recorded"),
}
PUBLISHED = N_("Run %(run_id)d (term %(term)s, round %(round)d) was published: %(placements)d placements "
               "concern you. Review them under Placements.")
SUPPLEMENTARY_UNPLACED = N_("%(unplaced)d of your students are still unplaced.")
ANSWER_OPENING = {
    PLACEMENT_ACCEPTED: N_("Student %(student_no)s accepted the offer for “%(opening)s” (placement %(placement_id)d)."),
    PLACEMENT_DECLINED: N_("Student %(student_no)s declined the offer for “%(opening)s” (placement %(placement_id)d)."),
    AGREEMENT_RECORDED: N_("The tripartite agreement of student %(student_no)s for “%(opening)s” was recorded "
                           "(placement %(placement_id)d)."),
}
ANSWER_LECTURER = {
    PLACEMENT_ACCEPTED: N_("The college accepted %(lecturer)s for the course “%(course)s” "
                           "(placement %(placement_id)d)."),
    PLACEMENT_DECLINED: N_("The college declined %(lecturer)s for the course “%(course)s” "
                           "(placement %(placement_id)d)."),
    AGREEMENT_RECORDED: N_("The agreement for %(lecturer)s on the course “%(course)s” was recorded "
                           "(placement %(placement_id)d)."),
}
UNKNOWN = N_("Notification")  # a kind this version has no words for (a newer version wrote it)
MAIL_FOOTER = N_("Sign in to Chanjiao to see the details. This message was sent automatically.")


def title(g: Gettext, kind: str) -> str:
    return g.gettext(TITLES.get(kind, UNKNOWN))


def describe(g: Gettext, kind: str, params: dict[str, Any]) -> str:
    """The notification as a sentence; one whose parameters do not fit its text (written by an
    older version) still shows its title rather than failing the page."""
    _ = g.gettext
    try:
        if kind in (RUN_PUBLISHED, SUPPLEMENTARY_PUBLISHED):
            text = _(PUBLISHED) % params
            if params.get("unplaced"):
                text += " " + _(SUPPLEMENTARY_UNPLACED) % params
            return text
        if kind in ANSWER_OPENING:
            return _((ANSWER_OPENING if "opening" in params else ANSWER_LECTURER)[kind]) % params
    except (KeyError, TypeError, ValueError):
        pass
    return title(g, kind)


def compose_mail(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a notification mail: in Chinese, then English, because a mail has no
    reader's language to go by (the web UI's default first)."""
    versions = [Gettext(locale) for locale in LOCALES]
    subject = " / ".join(dict.fromkeys(title(g, kind) for g in versions))
    body = "\n\n".join(f"{describe(g, kind, params)}\n{g.gettext(MAIL_FOOTER)}" for g in versions)
    return "[Chanjiao] " + subject, body + "\n"


def header_facts(request: Request) -> Header | None:
    """The header's tenant name and unread count, read once per page in a short read of its own
    (pages render without their request's session)."""
    cached: Header | None = getattr(request.state, "header_facts", None)
    user = getattr(request.state, "user", None)
    if cached is not None or user is None:
        return cached
    session = request.app.state.session_factories.read()
    try:
        facts = DashboardService(session, user.principal).header()
        session.commit()
    finally:
        session.close()
    request.state.header_facts = facts
    return facts


env.globals["header_facts"] = header_facts


def install_mail(app: FastAPI, settings: Settings) -> None:
    """With an SMTP host, sessions carry a postman: notifications are then mailed after commit."""
    if not settings.smtp_host:
        return
    from app.mail import SmtpPostman

    postman = SmtpPostman(settings, compose_mail)
    app.state.postman = postman
    factories = app.state.session_factories
    for factory in {id(f): f for f in (factories.write, factories.read)}.values():
        factory.configure(info={**factory.kw.get("info", {}), POSTMAN_KEY: postman})
