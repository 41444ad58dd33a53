"""Notification e-mail through an SMTP server (the standard library's smtplib and email).

The postman is handed mails after their transaction has committed (app/services/notifications.py)
and sends them from a thread of its own, so a slow or unreachable server never holds up a request;
a failure is logged and the notification stays in-app.  What a mail says is composed by the caller's
``compose`` (kind and parameters → subject and body), here only delivered.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from app.services.notifications import Mail
from app.settings import Settings

log = logging.getLogger("chanjiao.mail")

Compose = Callable[[str, dict[str, Any]], tuple[str, str]]


class SmtpPostman:
    def __init__(self, settings: Settings, compose: Compose, *, background: bool = True) -> None:
        assert settings.smtp_host
        self.host, self.port = settings.smtp_host, settings.smtp_port
        self.sender = settings.smtp_from
        self.user = settings.smtp_user
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_s
        self.compose = compose
        # A command-line process exits right after its work: it sends in its own thread, at once.
        self.background = background
        self._queue: queue.Queue[list[Mail]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def deliver(self, mails: list[Mail]) -> None:
        if not self.background:
            self._send(mails)
            return
        self._queue.put(list(mails))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="chanjiao-mail", daemon=True)
                self._thread.start()

    def wait(self) -> None:
        """Until every mail handed over so far has been sent or given up on (tests, shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            mails = self._queue.get()
            try:
                self._send(mails)
            finally:
                self._queue.task_done()

    def _send(self, mails: list[Mail]) -> None:
        try:
            messages = [self._message(mail) for mail in mails]
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                for message in messages:
                    smtp.send_message(message)
        except Exception as exc:  # never into the request: the notification is in-app already
            # Kinds and counts only: addresses are personal data and stay out of the log.
            log.warning("notification mail not sent (%s to %d recipients via %s:%d): %s: %s",
                        ", ".join(sorted({m.kind for m in mails})), sum(len(m.to) for m in mails),
                        self.host, self.port, type(exc).__name__, exc)

    def _message(self, mail: Mail) -> EmailMessage:
        subject, body = self.compose(mail.kind, mail.params)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(mail.to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a notification
        message.set_content(body)
        return message
