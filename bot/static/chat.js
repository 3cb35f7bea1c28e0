// Web chat: posts what the person types (or the button they press) to /api/chat and
// appends the HTML the server rendered (and escaped). No framework, no CDN.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const ask = document.getElementById("ask");
  const who = document.getElementById("who");
  const text = document.getElementById("text");

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
      if (result.status === 401) { who.hidden = false; ask.hidden = true; return; }
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
    if (!result.ok) {
      error.textContent = result.data.error || "That email address didn't work.";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    who.hidden = true;
    ask.hidden = false;
    document.getElementById("me").textContent = result.data.email;
    document.getElementById("signed-in").hidden = false;
    if (result.data.html) addHtml(result.data.html);
    text.focus();
  });

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

  if (document.getElementById("chat").dataset.signedIn === "yes") text.focus();
})();
