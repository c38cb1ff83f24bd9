"""The console's routes: Starlette, Jinja2 pages rendered on the server, plain HTML forms.

Every page checks the session and the group; every form carries the session's CSRF token
(the login forms, before a session exists, a double-submit cookie); every action is
written to the audit log. Pages only read: the message path never waits for them.

Progressive enhancement: the vendored htmx (static/, served here, never fetched elsewhere)
turns a few forms into partial updates. A request with the `HX-Request` header gets only
the affected fragment (the same include the full page is built from); without JavaScript
the same form posts and the whole page comes back, as before.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.blackroom import Stay
from bot.web import actions, auth, configedit, queries
from bot.web.charts import bars, sparkline
from bot.web.rows import overview_rows
from bot.web.texts import TEXTS

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

SESSION_COOKIE = "qunbot_session"
LOGIN_CSRF_COOKIE = "qunbot_login_csrf"
LANG_COOKIE = "qunbot_lang"

# Scripts only from the console itself (the vendored htmx; no inline script, no eval), its
# requests only back to the console; styles inline in the page; nothing framed, posted or
# loaded elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
                               "style-src 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a login link never leaks through a Referer
    "Cache-Control": "no-store",
    "Vary": "HX-Request",  # one URL, two shapes: the whole page or a fragment
}

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
# The static URL carries the file's hash, so a browser may keep it for a year.
STATIC_CACHE = "public, max-age=31536000, immutable"


class Console:
    """The app's state: the running bot, the templates, the login limiter."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime
        settings = runtime.config.config.web
        self.limiter = auth.LoginLimiter(settings.login_attempts, settings.login_window)
        self.closed_days = queries.ClosedDays()
        self.edit_lock = asyncio.Lock()  # config edits, one at a time
        self.env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=select_autoescape(default=True), trim_blocks=True,
                               lstrip_blocks=True)
        self.env.globals.update(sparkline=sparkline, bars=bars, overview_rows=overview_rows)

    @property
    def settings(self) -> Any:
        return self.runtime.config.config.web

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.runtime.config.config.bot.timezone)

    # -- rendering ---------------------------------------------------------------------------

    def text(self, request: Request, key: str, **values: object) -> str:
        return TEXTS.get(language_of(request, self.runtime.config.config.bot.language), key,
                         **values)

    def page(self, request: Request, template: str, status: int = 200,
             viewer: auth.Viewer | None = None, **values: Any) -> HTMLResponse:
        """A template (a whole page, or a fragment include for an htmx request)."""
        html = self.render(request, template, viewer, **values)
        return secure(HTMLResponse(html, status_code=status))

    def render(self, request: Request, template: str, viewer: auth.Viewer | None,
               **values: Any) -> str:
        language = language_of(request, self.runtime.config.config.bot.language)

        def t(key: str, **more: object) -> str:
            return TEXTS.get(language, key, **more)

        def local(at: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
            return at.astimezone(self.zone()).strftime(fmt) if at else t("never")

        def rule(name: str) -> str:
            """A moderation rule as the group's notices name it."""
            try:
                from plugins.moderation.texts import TEXTS as RULES

                return RULES.get(language, f"rule.{name}")
            except (ImportError, KeyError):
                return name

        def stay(inside: Stay) -> tuple[str, str]:
            """(reason, who put them in) as the built-in `小黑屋` names them."""
            return actions.stay_words(self.runtime, inside, language)

        return self.env.get_template(template).render(
            t=t, lang=language, viewer=viewer, local=local, path=request.url.path, rule=rule,
            stay=stay, groups=self.runtime.config.groups, **values)

    def refuse(self, request: Request, key: str, status: int,
               viewer: auth.Viewer | None = None) -> HTMLResponse:
        return self.page(request, "message.html", status, viewer, message_key=key)

    # -- sessions ----------------------------------------------------------------------------

    async def viewer(self, request: Request) -> auth.Viewer | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        async with self.runtime.db.transaction() as session:
            found = await auth.find_session(session, token, self.now())
        if found is None:
            return None
        return auth.viewer_for(self.runtime.config, found.person_id, found.group_id, found.csrf)

    async def start_session(self, request: Request, person_id: str, group_id: str | None,
                            how: str) -> Response:
        async with self.runtime.db.transaction() as session:
            await auth.forget_expired(session, self.now())
            token = await auth.new_session(session, person_id, group_id, self.now(),
                                           self.settings.session_hours)
            auth.audit(session, self.now(), person_id, "login", group_id, how,
                       address(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, max_age=int(self.settings.session_hours
                                                                * 3600),
                            httponly=True, secure=self.settings.secure_cookies, samesite="lax")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return secure(response)

    async def audit(self, request: Request, viewer: auth.Viewer, action: str,
                    group_id: str | None, detail: str) -> None:
        async with self.runtime.db.transaction() as session:
            auth.audit(session, self.now(), viewer.person_id, action, group_id, detail,
                       address(request))


def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def htmx(request: Request) -> bool:
    """An htmx request: answer with the fragment it swaps, not the whole page."""
    return request.headers.get("HX-Request") == "true"


def static_files() -> dict[str, tuple[bytes, str, str]]:
    """name -> (content, media type, short hash for the URL), read once at start."""
    return {p.name: (p.read_bytes(), STATIC_TYPES[p.suffix],
                     hashlib.sha256(p.read_bytes()).hexdigest()[:12])
            for p in sorted(STATIC.iterdir()) if p.suffix in STATIC_TYPES}


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def language_of(request: Request, default: str = "zh") -> str:
    """The 中/EN switch's choice, else the bot's language (Chinese unless set to en)."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in ("zh", "en") else default


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def csrf_ok(expected: str | None, form: dict[str, str]) -> bool:
    given = form.get("csrf", "")
    return bool(expected) and bool(given) and hmac.compare_digest(expected or "", given)


def create_app(runtime: BotRuntime) -> Starlette:
    console = Console(runtime)
    static = static_files()
    console.env.globals["static"] = lambda name: f"/static/{name}?v={static[name][2]}"

    def signed_in(handler: Any) -> Any:
        """The page needs a session; a POST also its CSRF token; `gid` a visible group."""

        async def endpoint(request: Request) -> Response:
            viewer = await console.viewer(request)
            if viewer is None and htmx(request):  # the whole window goes, not a fragment
                return secure(Response(status_code=200, headers={"HX-Redirect": "/login"}))
            if viewer is None:
                return secure(RedirectResponse("/login", status_code=303))
            form: dict[str, str] = {}
            if request.method == "POST":
                form = await form_of(request)
                if not csrf_ok(viewer.csrf, form):
                    return console.refuse(request, "csrf", 403, viewer)
            gid = request.path_params.get("gid")
            if gid is not None and not viewer.may_see(gid):
                return console.refuse(request, "forbidden", 403, viewer)
            return await handler(request, viewer, form)

        endpoint.inner = handler  # type: ignore[attr-defined]  # re-rendered after a POST
        return endpoint

    # -- login -------------------------------------------------------------------------------

    def login_form(request: Request, template: str, status: int = 200, **values: Any
                   ) -> Response:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = console.page(request, template, status, login_csrf=token, **values)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=console.settings.secure_cookies, max_age=3600)
        return response

    async def login_page(request: Request) -> Response:
        return login_form(request, "login.html")

    async def login_password(request: Request) -> Response:
        form = await form_of(request)
        if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form):
            return console.refuse(request, "csrf", 403)
        person = form.get("person", "").strip()[:128]
        where, now = address(request), console.now()
        if console.limiter.blocked(person, where, now):
            minutes = int(console.settings.login_window.total_seconds() // 60)
            return login_form(request, "login.html", 429, error="login.limited",
                              minutes=minutes)
        async with runtime.db.transaction() as session:
            ok = await auth.password_ok(session, person, form.get("password", ""))
            if not ok:
                auth.audit(session, now, person or "?", "login.failed", None, "password", where)
        if not ok:
            console.limiter.failed(person, where, now)
            return login_form(request, "login.html", 401, error="login.bad")
        if auth.visible_groups(runtime.config, person) is None:
            return login_form(request, "login.html", 403, error="login.nogroups")
        return await console.start_session(request, person, None, "password")

    async def link_page(request: Request) -> Response:
        # A GET never uses the link: chat apps open links to preview them.
        return login_form(request, "link.html", token=request.path_params["token"])

    async def link_login(request: Request) -> Response:
        form = await form_of(request)
        if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form):
            return console.refuse(request, "csrf", 403)
        where, now = address(request), console.now()
        if console.limiter.blocked("link", where, now):
            return console.refuse(request, "login.link_bad", 429)
        async with runtime.db.transaction() as session:
            link = await auth.use_link(session, request.path_params["token"], now)
            person, group = (link.person_id, link.group_id) if link else (None, None)
            if link is None:
                auth.audit(session, now, "?", "login.failed", None, "link", where)
        if person is None:
            console.limiter.failed("link", where, now)
            return console.refuse(request, "login.link_bad", 403)
        if auth.visible_groups(runtime.config, person, group) is None:
            return console.refuse(request, "login.nogroups", 403)
        return await console.start_session(request, person, group, "link")

    @signed_in
    async def logout(request: Request, viewer: auth.Viewer, form: dict[str, str]) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        async with runtime.db.transaction() as session:
            await auth.end_session(session, token)
            auth.audit(session, console.now(), viewer.person_id, "logout", None, "",
                       address(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return secure(response)

    async def set_language(request: Request) -> Response:
        language = "en" if request.path_params["lang"] == "en" else "zh"
        back = request.query_params.get("next", "/")
        local = back.startswith("/") and not back.startswith("//") and "\\" not in back
        response = RedirectResponse(back if local else "/", status_code=303)
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax",
                            secure=console.settings.secure_cookies)
        return secure(response)

    # -- pages -------------------------------------------------------------------------------

    @signed_in
    async def overview(request: Request, viewer: auth.Viewer, form: dict[str, str]) -> Response:
        groups = [runtime.config.groups[g] for g in viewer.group_ids]
        rows = await queries.overview(runtime, groups, console.closed_days)
        return console.page(request, "_overview_live.html" if htmx(request)
                            else "overview.html", viewer=viewer, rows=rows,
                            state=queries.bot_state(runtime))

    @signed_in
    async def group_page(request: Request, viewer: auth.Viewer, form: dict[str, str]
                         ) -> Response:
        group = runtime.config.groups[request.path_params["gid"]]
        data = await queries.group_page(runtime, group)
        return console.page(request, "group.html", viewer=viewer, group=group, data=data)

    @signed_in
    async def questions(request: Request, viewer: auth.Viewer, form: dict[str, str],
                        done: str | None = None, error: str | None = None) -> Response:
        async with runtime.db.transaction() as session:
            found = await queries.open_questions(session, viewer.group_ids)
        return console.page(request, "questions.html", viewer=viewer, questions=found,
                            done=done, error=error)

    @signed_in
    async def answer(request: Request, viewer: auth.Viewer, form: dict[str, str]) -> Response:
        qid = int(request.path_params["qid"])
        try:
            result = await actions.answer_question(runtime, qid, form.get("answer", ""),
                                                   viewer.person_id, viewer.may_see)
        except actions.ActionRefused as exc:
            if htmx(request):
                return await question_card(request, viewer, qid, error=str(exc))
            return await questions.inner(request, viewer, form, error=str(exc))
        await console.audit(request, viewer, "qa.answer", result.group_id,
                            f"question {qid}: {form.get('answer', '')[:200]}")
        done = console.text(request, "questions.done", asker=result.asker,
                         closed=result.closed)
        if htmx(request):
            return await question_card(request, viewer, qid, done=done)
        return await questions.inner(request, viewer, form, done=done)

    async def question_card(request: Request, viewer: auth.Viewer, qid: int,
                            done: str | None = None, error: str | None = None) -> Response:
        """The one question's card: the note, and the form again while it is still open."""
        async with runtime.db.transaction() as session:
            found = await queries.open_questions(session, viewer.group_ids)
        q = next((q for q in found if q.id == qid), None)
        return console.page(request, "_question.html", viewer=viewer, q=q, qid=qid,
                            done=done, error=error)

    @signed_in
    async def moderation(request: Request, viewer: auth.Viewer, form: dict[str, str],
                         done: str | None = None, error: str | None = None) -> Response:
        now = console.now()
        midnight = now.astimezone(console.zone()).replace(hour=0, minute=0, second=0,
                                                         microsecond=0)
        async with runtime.db.transaction() as session:
            done_today, room = await queries.moderation_today(
                session, runtime.services.blackroom, viewer.group_ids, midnight, now)
        if htmx(request) and request.method == "POST":  # only what the action changed
            template = ("_blackroom.html" if request.path_params.get("aid") is None
                        else "_undone.html")
            return console.page(request, template, viewer=viewer, actions=done_today,
                                room=room, done=done, error=error)
        return console.page(request, "moderation.html", viewer=viewer, actions=done_today,
                            room=room, done=done, error=error)

    def undo(misjudged: bool) -> Any:
        @signed_in
        async def handler(request: Request, viewer: auth.Viewer, form: dict[str, str]
                          ) -> Response:
            aid = int(request.path_params["aid"])
            try:
                told = await actions.undo_action(runtime, aid, misjudged=misjudged,
                                                 may_see=viewer.may_see, by=viewer.person_id)
            except actions.ActionRefused as exc:
                return await moderation.inner(request, viewer, form, error=str(exc))
            await console.audit(request, viewer, "moderation.misjudged" if misjudged
                                else "moderation.unwarn", None, f"action {aid}: {told}")
            return await moderation.inner(request, viewer, form, done=told)

        return handler

    @signed_in
    async def release(request: Request, viewer: auth.Viewer, form: dict[str, str]) -> Response:
        gid, member = request.path_params["gid"], form.get("member", "")
        try:
            released = await actions.blackroom_release(runtime, gid, member,
                                                       viewer.person_id)
        except actions.ActionRefused as exc:
            return await moderation.inner(request, viewer, form, error=str(exc))
        await console.audit(request, viewer, "blackroom.release", gid, member)
        done = (console.text(request, "moderation.released", name=member)
                if released else None)
        return await moderation.inner(request, viewer, form, done=done)

    @signed_in
    async def digests(request: Request, viewer: auth.Viewer, form: dict[str, str]) -> Response:
        today = console.now().astimezone(console.zone()).date()
        days = [today - timedelta(days=n) for n in range(1, 31)]
        try:
            day = date.fromisoformat(request.query_params.get("day", ""))
        except ValueError:
            day = days[0]
        if day not in days:
            day = days[0]
        groups = [runtime.config.groups[g] for g in viewer.group_ids]
        shown = await queries.digest_of(runtime, viewer.person_id, groups, day)
        chart = "data:image/png;base64," + base64.b64encode(shown.chart_png).decode()
        return console.page(request, "digests.html", viewer=viewer, days=days, digest=shown,
                            chart=chart)

    @signed_in
    async def config_page(request: Request, viewer: auth.Viewer, form: dict[str, str]
                          ) -> Response:
        issues = await configedit.check(runtime)
        base = runtime.config.base_dir
        async with runtime.db.transaction() as session:
            trail = await queries_audit(session, viewer)
        return console.page(request, "config.html", viewer=viewer,
                            issues=[i.shown(base) for i in issues], audit=trail,
                            operators=len(runtime.config.config.operators))

    @signed_in
    async def config_group(request: Request, viewer: auth.Viewer, form: dict[str, str],
                           done: str | None = None, refused: list[str] | None = None
                           ) -> Response:
        group = runtime.config.groups[request.path_params["gid"]]
        posts = configedit.timed_posts(runtime.config, group)
        try:
            faq_path: Path | None = configedit.faq_file(runtime.config, group,
                                                        set(viewer.group_ids))
            faq_error = None
        except configedit.EditRefused as exc:
            faq_path, faq_error = None, str(exc)
        faq = configedit.faq_entries(faq_path) if faq_path and faq_path.is_file() else []
        shown = faq_path.relative_to(runtime.config.base_dir) if faq_path else None
        return console.page(request, "config_group.html", viewer=viewer, group=group,
                            posts=posts, faq=faq, faq_file=shown, faq_error=faq_error,
                            done=done, refused=refused)

    def editor(kind: str) -> Any:
        @signed_in
        async def handler(request: Request, viewer: auth.Viewer, form: dict[str, str]
                          ) -> Response:
            group = runtime.config.groups[request.path_params["gid"]]
            try:
                if kind == "posts":
                    path = runtime.config.path
                    text = configedit.edit_timed_posts(runtime.config, group, form)
                else:
                    path = configedit.faq_file(runtime.config, group, set(viewer.group_ids))
                    text = configedit.edit_faq(path, form)
            except configedit.EditRefused as exc:
                return await config_group.inner(request, viewer, form, refused=[str(exc)])
            issues = await configedit.apply(runtime, path, text, console.edit_lock)
            shown = [i.shown(runtime.config.base_dir) for i in issues]
            await console.audit(request, viewer, f"config.{kind}", group.id,
                                "refused: " + "; ".join(shown)[:1500] if issues else "applied")
            if issues:
                return await config_group.inner(request, viewer, form, refused=shown)
            done = console.text(request, "config.applied")
            return await config_group.inner(request, viewer, form, done=done)

        return handler

    async def static_file(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            return secure(Response("not found", status_code=404, media_type="text/plain"))
        response = secure(Response(found[0], media_type=found[1]))
        response.headers["Cache-Control"] = STATIC_CACHE
        del response.headers["Vary"]
        return response

    routes = [
        Route("/", overview),
        Route("/static/{name}", static_file),
        Route("/login", login_page),
        Route("/login", login_password, methods=["POST"]),
        Route("/login/{token}", link_page),
        Route("/login/{token}", link_login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/lang/{lang}", set_language),
        Route("/group/{gid}", group_page),
        Route("/questions", questions),
        Route("/questions/{qid:int}/answer", answer, methods=["POST"]),
        Route("/moderation", moderation),
        Route("/moderation/{aid:int}/misjudged", undo(True), methods=["POST"]),
        Route("/moderation/{aid:int}/unwarn", undo(False), methods=["POST"]),
        Route("/blackroom/{gid}/release", release, methods=["POST"]),
        Route("/digests", digests),
        Route("/config", config_page),
        Route("/config/{gid}", config_group),
        Route("/config/{gid}/posts", editor("posts"), methods=["POST"]),
        Route("/config/{gid}/faq", editor("faq"), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.console = console
    return app


async def queries_audit(session: Any, viewer: auth.Viewer, limit: int = 50) -> list[Any]:
    """The latest console actions on the viewer's groups (and the viewer's own)."""
    from sqlalchemy import or_, select

    from bot.web.models import WebAudit

    rows = await session.scalars(
        select(WebAudit).where(or_(WebAudit.person_id == viewer.person_id,
                                   WebAudit.group_id.in_(viewer.group_ids)))
        .order_by(WebAudit.id.desc()).limit(limit))
    return list(rows)

