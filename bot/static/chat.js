// Web chat: posts what the person types (or the button they press) to /api/chat and
// appends the HTML the server rendered (and escaped). No framework, no CDN.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const ask = document.getElementById("ask");
  const who = document.getElementById("who");
  const text = document.getElementById("text");
  const chat = document.getElementById("chat");
  const codeStep = document.getElementById("code-step");
  const codeInput = document.getElementById("code");
  const codeError = document.getElementById("code-error");
  const codeStatus = document.getElementById("code-status");
  const signedIn = document.getElementById("signed-in");
  const proof = document.getElementById("proof");
  const signout = document.getElementById("signout");
  // "Sign in with your council account" (OIDC), when the server offers it
  const oidc = document.getElementById("oidc");

  // who is asking: nobody (email step), an address not yet proven (code step), or proven
  function showSignedIn(email, proven) {
    document.getElementById("me").textContent = email;
    proof.textContent = proven ? "(verified)" : "(not verified)";
    proof.className = "proof " + (proven ? "verified" : "unverified");
    signedIn.hidden = false;
    who.hidden = true;
    ask.hidden = false;
    codeStep.hidden = proven || chat.dataset.sso === "yes";
    chat.dataset.proven = proven ? "yes" : "no";
    if (oidc) oidc.hidden = proven;
  }

  function showSignedOut() {
    signedIn.hidden = true;
    codeStep.hidden = true;
    ask.hidden = true;
    who.hidden = false;
    if (oidc) oidc.hidden = false;
    document.getElementById("email").focus();
  }

  function showCodeError(message) {
    codeError.textContent = message;
    codeError.hidden = !message;
  }

  function addMine(content) {
    const li = document.createElement("li");
    li.className = "msg me";
    const p = document.createElement("p");
    p.className = "text";
    p.textContent = content;  // never innerHTML for what the person typed
    li.appendChild(p);
    log.appendChild(li);
  }

  function addHtml(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;  // rendered and escaped by the server's templates
    log.appendChild(tpl.content);
    log.lastElementChild && log.lastElementChild.scrollIntoView({ block: "end" });
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { ok: response.ok, status: response.status, data: data };
  }

  async function send(body, shown) {
    if (shown) addMine(shown);
    const busy = document.createElement("li");
    busy.className = "msg bot busy";
    busy.textContent = "…";
    log.appendChild(busy);
    try {
      const result = await post("/api/chat", body);
      busy.remove();
      if (result.status === 401) { showSignedOut(); return; }
      addHtml(result.data.html || "<li class=\"msg bot error\"><p class=\"text\">Sorry, something went wrong. Please try again.</p></li>");
    } catch (e) {
      busy.remove();
      addHtml("<li class=\"msg bot error\"><p class=\"text\">I couldn't reach the server. Check your connection and try again.</p></li>");
    }
  }

  who.addEventListener("submit", async function (event) {
    event.preventDefault();
    const email = document.getElementById("email").value.trim();
    const error = document.getElementById("who-error");
    const result = await post("/api/session", { email: email });
    if (!result.data.email) {  // refused: no session was started
      error.textContent = result.data.error || "That email address didn't work.";
      error.hidden = false;
      return;
    }
    // a session was started; the code may not have gone (too many this hour): say so
    error.hidden = true;
    showSignedIn(result.data.email, !!result.data.proven);
    showCodeError(result.ok ? "" : (result.data.error || ""));
    codeStatus.textContent = result.data.message || "";
    if (result.data.html) addHtml(result.data.html);
    codeInput.value = "";
    codeInput.focus();
  });

  codeStep.addEventListener("submit", async function (event) {
    event.preventDefault();
    const code = codeInput.value.trim();
    if (!code) { showCodeError("Type the 6-digit code from the email."); return; }
    const result = await post("/api/session/verify", { code: code });
    codeInput.value = "";
    if (result.status === 401) { showSignedOut(); return; }
    if (!result.ok) {
      showCodeError(result.data.error || "That code didn't work.");
      codeInput.focus();
      return;
    }
    showCodeError("");
    codeStatus.textContent = "";
    showSignedIn(result.data.email, true);
    if (result.data.html) addHtml(result.data.html);
    text.focus();
  });

  document.getElementById("resend").addEventListener("click", async function () {
    const result = await post("/api/session/resend", {});
    if (result.status === 401) { showSignedOut(); return; }
    if (result.data.proven) { showSignedIn(result.data.email, true); return; }
    showCodeError(result.ok ? "" : (result.data.error || "We couldn't send a new code."));
    codeStatus.textContent = result.ok ? (result.data.message || "We've sent a new code.") : "";
    codeInput.focus();
  });

  if (signout) {
    signout.addEventListener("click", async function () {
      await post("/api/signout", {});
      log.textContent = "";
      showSignedOut();
    });
  }

  ask.addEventListener("submit", function (event) {
    event.preventDefault();
    const value = text.value;
    if (!value.trim()) return;
    text.value = "";
    send({ text: value }, value);
  });

  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      ask.requestSubmit();
    }
  });

  log.addEventListener("click", function (event) {
    const button = event.target.closest("button.choice");
    if (!button) return;
    const group = button.parentElement;
    group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    button.classList.add("chosen");
    send({ press: { action: button.dataset.action } }, button.textContent);
  });

  async function poll() {
    if (ask.hidden || document.hidden) return;
    try {
      const response = await fetch("/api/notifications", { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (data.html) addHtml(data.html);
    } catch (e) { /* offline for a moment: the next poll tries again */ }
  }
  setInterval(poll, 20000);

  // after a reload: the conversation so far, and the last question's buttons if the
  // server still waits on them (only for a proven session; the server checks)
  async function restore() {
    try {
      const response = await fetch("/api/history", { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (data.html && !log.children.length) addHtml(data.html);
    } catch (e) { /* offline: the page starts empty, as before */ }
  }

  if (chat.dataset.signedIn === "yes" && chat.dataset.proven === "yes") restore();

  if (chat.dataset.signedIn === "yes") {
    if (chat.dataset.proven === "yes" || chat.dataset.sso === "yes") text.focus();
    else codeInput.focus();
  }
})();
