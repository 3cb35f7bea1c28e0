"""A real Request Tracker 5 for the connector tests, started once per test session.

Debian's ``request-tracker5``, ``rt5-db-sqlite`` and ``rt5-standalone`` (``.ci/install-rt.sh``
installs them). For each session, in a temporary folder:

1. copy the SQLite database the package initialised, so sessions never collide;
2. write a site config for it (UTC, no syslog, outgoing mail to a temp file, cheap bcrypt
   so each authenticated request costs ~50 ms instead of ~250 ms, the webhook URL/secret);
3. ``rt-setup-database --action insert`` with :data:`INITIALDATA`: the bot's user, its
   rights and an auth token, the two custom fields, the webhook scrip – RT's own tool, and
   the same recipe an RT admin can follow;
4. ``rt-server --port P`` in its own process group, until :func:`stop`.

:class:`WebhookReceiver` is where the scrip posts to; :class:`RTHarness` puts a
fault-injecting proxy between the connector and RT, and acts as RT's agent (root).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

from integrations.servicedesk import RequestTracker, ServiceDesk, TicketStatus
from integrations.servicedesk.http import basic_auth
from integrations.servicedesk.rt import TO_RT
from tests.conftest import free_port
from tests.servicedesk.support import Faults, FlakyServer, Harness, make_proxy

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_SETUP = Path("/usr/sbin/rt-setup-database-5")
RT_DATABASE = Path("/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb")

BOT_USER = "itbot"
BOT_PASSWORD = "itbot-test-password"
ADMIN_USER = "root"
ADMIN_PASSWORD = "password"

INITIALDATA = r"""
@Users = ({ Name => 'itbot', RealName => 'IT bot', EmailAddress => 'itbot@example.invalid',
            Password => $ENV{ITBOT_RT_BOT_PASSWORD}, Privileged => 1 });
@CustomFields = (
    { Name => 'ITBot Reference', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
      Description => 'Reference of the ticket in the IT bot', Queue => ['General'] },
    { Name => 'ITBot Comment Key', Type => 'FreeformSingle',
      LookupType => 'RT::Queue-RT::Ticket-RT::Transaction',
      Description => 'Key of a comment the IT bot posted', Queue => ['General'] },
);
@ACL = (
    { UserId => 'itbot', Right => 'ManageAuthTokens' },
    map( { { UserId => 'itbot', Queue => 'General', Right => $_ } }
        qw(SeeQueue ShowTicket CreateTicket ModifyTicket ReplyToTicket CommentOnTicket
           ShowTicketComments SeeCustomField ModifyCustomField) ),
);
@Scrips = ({
    Description => 'Send IT bot webhook', Queue => ['General'],
    ScripCondition => 'User Defined', ScripAction => 'User Defined', Template => 'Blank',
    CustomIsApplicableCode => q{
        my $type = $self->TransactionObj->Type;
        return $type eq 'Correspond' || $type eq 'Comment' || $type eq 'Status';
    },
    CustomPrepareCode => q{ return 1; },
    CustomCommitCode => q{
        require HTTP::Tiny; require Digest::SHA; require JSON;
        my $url = RT->Config->Get('ITBotWebhookURL') or return 1;
        my ($txn, $ticket) = ($self->TransactionObj, $self->TicketObj);
        my $is_status = $txn->Type eq 'Status';
        my $body = $is_status ? undef : $txn->Content(Type => 'text/plain');
        my $json = JSON->new->utf8->canonical->encode({
            id => $txn->Id, ticket => $ticket->Id,
            reference => $ticket->FirstCustomFieldValue('ITBot Reference'),
            kind => $is_status ? 'status' : 'comment',
            status => $is_status ? $txn->NewValue : $ticket->Status,
            body => defined $body ? "$body" : undef,
            public => $txn->Type eq 'Correspond' ? JSON::true : JSON::false,
            author => $txn->CreatorObj->RealName || $txn->CreatorObj->Name,
            author_id => $txn->CreatorObj->Name,
            at => $txn->CreatedObj->W3CDTF,
        });
        my $signature = Digest::SHA::hmac_sha256_hex($json, RT->Config->Get('ITBotWebhookSecret'));
        my $response = HTTP::Tiny->new(timeout => 5)->post($url, {
            content => $json,
            headers => { 'Content-Type' => 'application/json',
                         'X-ITBot-Signature' => "sha256=$signature" },
        });
        RT->Logger->error("IT bot webhook: $response->{status} $response->{reason}")
            unless $response->{success};
        return 1;
    },
});
@Final = (sub {
    my $user = RT::User->new(RT->SystemUser);
    $user->Load('itbot');
    my $token = RT::AuthToken->new(RT::CurrentUser->new($user));
    my ($id, $msg, $authstring) = $token->Create(Owner => $user->Id, Description => 'IT bot');
    die "cannot create the auth token: $msg" unless $id;
    open my $fh, '>', $ENV{ITBOT_RT_TOKEN_FILE} or die $!;
    print $fh $authstring;
    close $fh;
    my $root = RT::User->new(RT->SystemUser);
    $root->Load('root');
    my ($ok, $why) = $root->SetPassword($ENV{ITBOT_RT_ADMIN_PASSWORD});
    die "cannot set root's password: $why" unless $ok;
});
1;
"""


@dataclass
class RTServer:
    url: str
    token: str
    webhook_secret: str
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float


def missing() -> str | None:
    """Why RT can't run here, or ``None``."""
    for path in (RT_SERVER, RT_SETUP, RT_DATABASE):
        if not path.exists():
            return f"Request Tracker 5 is not installed ({path} is missing); run .ci/install-rt.sh"
    if not os.access(RT_DATABASE, os.R_OK):
        return f"cannot read RT's database {RT_DATABASE}; run the tests as root"
    return None


def _config(folder: Path, port: int, webhook_url: str, webhook_secret: str) -> None:
    def perl(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    settings = {
        "rtname": "itbot-test",
        "Organization": "itbot.test",
        "Timezone": "UTC",
        "DatabaseType": "SQLite",
        "DatabaseName": str(folder / "rtdb"),
        "DatabaseHost": "",
        "DatabaseUser": "",
        "DatabasePassword": "",
        "WebPath": "",
        "WebDomain": "127.0.0.1",
        "WebPort": str(port),
        "CorrespondAddress": "rt@example.invalid",
        "CommentAddress": "rt-comment@example.invalid",
        "MailCommand": "testfile",
        "LogToSTDERR": "warning",
        "ITBotWebhookURL": webhook_url,
        "ITBotWebhookSecret": webhook_secret,
    }
    lines = [f"Set(${name}, {perl(value)});" for name, value in settings.items()]
    lines += ["Set($LogToSyslog, undef);", "Set($LogToFile, undef);", "Set($BcryptCost, 4);"]
    (folder / "site.d").mkdir()
    (folder / "site.d" / "itbot.pm").write_text("\n".join([*lines, "1;", ""]))
    (folder / "RT_SiteConfig.pm").write_text("1;\n")
    (folder / "initialdata").write_text(INITIALDATA)


def start(folder: Path, *, webhook_url: str, webhook_secret: str, port: int) -> RTServer:
    started = time.monotonic()
    shutil.copyfile(RT_DATABASE, folder / "rtdb")
    _config(folder, port, webhook_url, webhook_secret)
    env = {
        **os.environ,
        "RT_SITE_CONFIG": str(folder / "RT_SiteConfig.pm"),
        "RT_SITE_CONFIG_DIR": str(folder / "site.d"),
        "ITBOT_RT_TOKEN_FILE": str(folder / "token"),
        "ITBOT_RT_BOT_PASSWORD": BOT_PASSWORD,
        "ITBOT_RT_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    setup = subprocess.run(
        [
            str(RT_SETUP),
            "--action",
            "insert",
            "--skip-create",
            "--datafile",
            str(folder / "initialdata"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if setup.returncode != 0:
        raise RuntimeError(f"rt-setup-database failed:\n{setup.stdout}\n{setup.stderr}")
    token = (folder / "token").read_text().strip()
    log = folder / "rt-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RT_SERVER), "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    server = RTServer(url, token, webhook_secret, process, log, 0.0)
    deadline = time.monotonic() + 90
    while True:
        request = urllib.request.Request(
            f"{url}/REST/2.0/rt", headers={"Authorization": f"token {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"rt-server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    server.started_in = time.monotonic() - started
    return server


def stop(server: RTServer) -> None:
    """Stop the rt-server we started: its process group (the master and its workers)."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=15)


class WebhookReceiver:
    """Where RT's webhook scrip POSTs to: a small threaded HTTP server for the session."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/rt-webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class RTHarness(Harness):
    """The connector goes through a fault-injecting proxy; ground truth and the "agent"
    (RT's root) talk to RT directly."""

    name = "rt"
    status_after: ClassVar[dict[TicketStatus, TicketStatus]] = {"closed": "resolved"}

    def __init__(self, rt: RTServer, receiver: WebhookReceiver) -> None:
        super().__init__()
        self.rt, self.receiver = rt, receiver
        self.webhook_secret = rt.webhook_secret
        self.faults = Faults()
        self.server = FlakyServer(make_proxy(rt.url, self.faults))
        self._seen = len(receiver.deliveries)
        self.admin = aiohttp.ClientSession(
            rt.url + "/REST/2.0/",
            headers=basic_auth(ADMIN_USER, ADMIN_PASSWORD),
        )

    def _connect(self, *, timeout: float, **overrides: Any) -> ServiceDesk:
        options: dict[str, Any] = {
            "base_url": self.server.url,
            "username": BOT_USER,
            "token": self.rt.token,
            "webhook_secret": self.rt.webhook_secret,
            "timeout": timeout,
            **overrides,
        }
        return RequestTracker(**options)

    async def _get(self, path: str, **params: str) -> Any:
        async with self.admin.get(path, params=params) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def count(self, reference: str) -> int:
        data = await self._get("tickets", query=f"CF.{{ITBot Reference}} = '{reference}'")
        return int(data["count"])

    async def comments(self, remote_id: str) -> list[tuple[str, bool]]:
        query = f"ObjectId = {remote_id} AND (Type = 'Correspond' OR Type = 'Comment')"
        txns = (await self._get("transactions", query=query, fields="Type", per_page="100"))[
            "items"
        ]
        found = []
        for txn in txns:
            ids = json.dumps(
                [
                    {"field": "TransactionId", "value": int(txn["id"])},
                    {"field": "ContentType", "value": "text/plain"},
                ]
            )
            parts = (await self._get("attachments", query=ids, fields="Content"))["items"]
            found.append(("".join(p["Content"] for p in parts), txn["Type"] == "Correspond"))
        return found

    async def agent_reply(self, remote_id: str, body: str, *, public: bool) -> None:
        kind = "correspond" if public else "comment"
        payload = {"Content": body, "ContentType": "text/plain"}
        async with self.admin.post(f"ticket/{remote_id}/{kind}", json=payload) as response:
            assert response.status == 201, await response.text()

    async def agent_set_status(self, remote_id: str, status: TicketStatus) -> None:
        async with self.admin.put(
            f"ticket/{remote_id}", json={"Status": TO_RT[status]}
        ) as response:
            assert response.status == 200, await response.text()

    def webhooks(self) -> list[tuple[dict[str, str], bytes]]:
        return list(self.receiver.deliveries[self._seen :])

    async def close(self) -> None:
        await super().close()
        await self.admin.close()
