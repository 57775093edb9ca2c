// The lab's web view: one card per device, live over Server-Sent Events (/api/events), controls POST
// to the lab's JSON API. No framework, nothing loaded from elsewhere.
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var cards = {};
  var lab = null;
  var $ = function (sel, root) { return (root || document).querySelector(sel); };

  function message(text, isError) {
    var m = $("#message");
    m.textContent = text;
    m.className = isError ? "error" : "";
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
          return j;
        });
      })
      .catch(function (e) {
        // fetch itself fails (TypeError) when nothing answers: say so instead of the browser's "Failed to fetch"
        message(e instanceof TypeError ? "the lab is not running (stopped or unreachable): start it again with npm start" : e.message, true);
        return null; // shown; nothing else to do
      });
  }

  function devUrl(name, what) {
    return "/api/devices/" + encodeURIComponent(name) + "/" + what;
  }

  function fmt(v, unit) {
    return typeof v === "number" ? v + (unit || "") : v === null ? "none" : v === undefined ? "-" : String(v);
  }

  function chart(history) {
    var w = 360, h = 90, padL = 26, padR = 26, padT = 8, padB = 12;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "temperature and humidity");
    var pts = history || [];
    function series(idx, cls, lo, hi) {
      var vals = pts.filter(function (p) { return typeof p[idx] === "number"; });
      if (!vals.length) return null;
      var t0 = pts[0][0], t1 = pts[pts.length - 1][0];
      var span = Math.max(t1 - t0, 1);
      var d = "";
      var g = document.createElementNS(SVG, "g");
      pts.forEach(function (p, i) {
        var v = p[idx];
        if (typeof v !== "number") return;
        var x = padL + ((p[0] - t0) / span) * (w - padL - padR);
        if (pts.length === 1) x = w - padR;
        var y = padT + (1 - (v - lo) / Math.max(hi - lo, 1)) * (h - padT - padB);
        var joined = d && typeof pts[i - 1] !== "undefined" && typeof pts[i - 1][idx] === "number";
        d += (joined ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
        var next = pts[i + 1];
        if (!joined && !(next && typeof next[idx] === "number")) {
          // a lone reading between gaps: a dot, since a one-point line draws nothing
          var dot = document.createElementNS(SVG, "circle");
          dot.setAttribute("class", cls + "-dot");
          dot.setAttribute("cx", x.toFixed(1));
          dot.setAttribute("cy", y.toFixed(1));
          dot.setAttribute("r", "2");
          g.appendChild(dot);
        }
      });
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("class", cls);
      path.setAttribute("d", d);
      g.insertBefore(path, g.firstChild);
      return g;
    }
    function range(idx) {
      var vals = pts.map(function (p) { return p[idx]; }).filter(function (v) { return typeof v === "number"; });
      if (!vals.length) return [0, 1];
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      if (hi - lo < 2) { lo -= 1; hi += 1; }
      return [Math.floor(lo), Math.ceil(hi)];
    }
    var tr = range(1), hr = range(2);
    var t = series(1, "t", tr[0], tr[1]);
    var hm = series(2, "h", hr[0], hr[1]);
    if (t) svg.appendChild(t);
    if (hm) svg.appendChild(hm);
    function label(x, y, text, anchor) {
      var el = document.createElementNS(SVG, "text");
      el.setAttribute("x", x);
      el.setAttribute("y", y);
      el.setAttribute("text-anchor", anchor);
      el.textContent = text;
      svg.appendChild(el);
    }
    label(2, 14, tr[1] + "\u00b0", "start");
    label(2, h - 14, tr[0] + "\u00b0", "start");
    label(w - 2, 14, hr[1] + "%", "end");
    label(w - 2, h - 14, hr[0] + "%", "end");
    label(w / 2, h - 2, pts.length ? "temperature (orange), humidity (blue): last " + pts.length + (pts.length === 1 ? " report" : " reports") : "no reports yet", "middle");
    return svg;
  }

  function makeCard(name) {
    var node = $("#card-template").content.firstElementChild.cloneNode(true);
    node.setAttribute("data-device", name);
    $(".name", node).textContent = name;
    $(".do-on", node).addEventListener("click", function () {
      post(devUrl(name, "desired"), { on: true }).then(function (r) { if (r) message(name + ": desired on = true"); });
    });
    $(".do-off", node).addEventListener("click", function () {
      post(devUrl(name, "desired"), { on: false }).then(function (r) { if (r) message(name + ": desired on = false"); });
    });
    $(".do-refresh", node).addEventListener("click", function () {
      var v = Number($(".refresh-input", node).value);
      post(devUrl(name, "desired"), { refresh: v }).then(function (r) { if (r) message(name + ": desired refresh = " + v + " s"); });
    });
    $(".do-press", node).addEventListener("click", function () {
      post(devUrl(name, "press")).then(function (r) { if (r) message(name + ": button pressed"); });
    });
    $(".do-sensor", node).addEventListener("click", function () {
      var on = node.getAttribute("data-sensor") !== "true";
      post(devUrl(name, "sensor"), { on: on }).then(function (r) { if (r) message(name + ": sensor " + (on ? "restored" : "removed")); });
    });
    $(".do-wifi", node).addEventListener("click", function () {
      var on = node.getAttribute("data-wifi") !== "true";
      post(devUrl(name, "wifi"), { on: on }).then(function (r) { if (r) message(name + ": WiFi " + (on ? "restored" : "cut")); });
    });
    $(".do-reboot", node).addEventListener("click", function () {
      post(devUrl(name, "reboot")).then(function (r) { if (r) message(name + ": rebooted"); });
    });
    $(".do-job", node).addEventListener("click", function () {
      var op = $(".job-op", node).value;
      var body = { device: name, operation: op, params: op === "set-config" ? { on: true } : op === "blink" ? { count: 3 } : {} };
      post("/api/jobs", body).then(function (r) { if (r) message("job " + r.jobId + " created for " + name); });
    });
    $("#devices").appendChild(node);
    cards[name] = { node: node, chartKey: "", logKey: "" };
    return cards[name];
  }

  // "12 s ago", "3 min ago", "2 h ago"
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 60 ? s + " s ago" : s < 3600 ? Math.floor(s / 60) + " min ago" : Math.floor(s / 3600) + " h ago";
  }

  // The readings of a device that is offline, or of any device while the lab is stopped, are stale: say how old.
  function showAge(c) {
    var n = c.node;
    var stale = !live || !c.online;
    n.setAttribute("data-stale", String(stale));
    $(".age", n).textContent = c.lastReport ? (stale ? "stale: " : "") + ago(c.lastReport) : "no report yet";
  }

  function update(d) {
    var c = cards[d.name] || makeCard(d.name);
    var n = c.node;
    var r = d.reported || {};
    var h = d.history || [];
    c.online = d.online;
    c.lastReport = h.length ? h[h.length - 1][0] : 0;
    showAge(c);
    n.setAttribute("data-online", String(d.online));
    n.setAttribute("data-wifi", String(d.wifi));
    n.setAttribute("data-sensor", String(d.sensor));
    var ob = $(".online-badge", n);
    ob.textContent = d.online ? "online" : "offline";
    ob.className = "badge online-badge " + (d.online ? "on" : "off");
    var wb = $(".wifi-badge", n);
    wb.textContent = d.wifi ? "WiFi" : "WiFi cut";
    wb.className = "badge wifi-badge " + (d.wifi ? "on" : "off");
    var sb = $(".sensor-badge", n);
    sb.textContent = d.sensor ? "DHT11" : "no sensor";
    sb.className = "badge sensor-badge " + (d.sensor ? "on" : "off");
    $(".led", n).setAttribute("data-lit", String(d.led));
    $(".led-state", n).textContent = d.led ? "on" : "off";
    $(".temperature", n).textContent = r.sensorError ? "sensor error: " + r.sensorError : fmt(r.temperature, " \u00b0C");
    $(".humidity", n).textContent = r.sensorError ? "-" : fmt(r.humidity, " %");
    $(".reported-on", n).textContent = fmt(r.on);
    $(".desired-on", n).textContent = fmt(d.desired.on);
    $(".btn-count", n).textContent = fmt(r.btnCount);
    $(".refresh", n).textContent = fmt(r.refresh, " s") + (d.desired.refresh !== undefined && d.desired.refresh !== r.refresh ? " (desired " + d.desired.refresh + " s)" : "");
    $(".version", n).textContent = fmt(d.version);
    $(".uptime", n).textContent = fmt(r.uptime, " s") + " / " + (typeof r.ram_free === "number" ? r.ram_free + " vars" : "-");
    var job = $(".job", n);
    job.textContent = d.job ? d.job.operation + " " + d.job.status + " (" + d.job.jobId + ")" : "none";
    job.setAttribute("data-status", d.job ? d.job.status : "");
    $(".do-sensor", n).textContent = d.sensor ? "Remove sensor" : "Restore sensor";
    $(".do-wifi", n).textContent = d.wifi ? "Cut WiFi" : "Restore WiFi";
    var ri = $(".refresh-input", n);
    if (!c.refreshSet && typeof r.refresh === "number" && document.activeElement !== ri) {
      ri.value = r.refresh;
      c.refreshSet = true;
    }
    var ck = JSON.stringify(d.history);
    if (ck !== c.chartKey) {
      c.chartKey = ck;
      var box = $(".chart-box", n);
      box.textContent = "";
      box.appendChild(chart(d.history));
    }
    var lk = d.logs.join("\n");
    if (lk !== c.logKey) {
      c.logKey = lk;
      var pre = $(".logs", n);
      pre.textContent = lk;
      pre.scrollTop = pre.scrollHeight;
    }
  }

  function showLab(l) {
    lab = l;
    $("#lab-info").textContent = (l.mode === "aws" ? "real AWS IoT " : "local stand-in ") + l.endpoint + " (" + l.region + ") \u00b7 " +
      l.devices.length + " " + l.board + " board(s) \u00b7 group " + l.group;
    $("#group-name").textContent = l.group;
  }

  $("#group-job").addEventListener("click", function () {
    if (!lab) return;
    var op = $("#group-op").value;
    var body = { group: lab.group, operation: op, params: op === "set-config" ? { on: true } : op === "blink" ? { count: 3 } : {} };
    post("/api/jobs", body).then(function (r) { if (r) message("job " + r.jobId + " created for group " + lab.group); });
  });

  // Live: every control works. Stopped (the event stream broke): the lab has stopped or cannot be reached, so
  // nothing on the page is current: each device's state is unknown, its readings stale, and the controls are off
  // until the lab answers again (the page reconnects by itself).
  function setLive(on) {
    live = on;
    var conn = $("#conn");
    conn.textContent = on ? "live" : "lab stopped";
    conn.setAttribute("data-state", on ? "live" : "stopped");
    document.body.setAttribute("data-lab", on ? "live" : "stopped");
    document.querySelectorAll("main button, #group-job").forEach(function (b) { b.disabled = !on; });
    Object.keys(cards).forEach(function (name) {
      var c = cards[name];
      if (!on) {
        c.node.setAttribute("data-online", "unknown");
        var ob = $(".online-badge", c.node);
        ob.textContent = "unknown";
        ob.className = "badge online-badge unknown";
      }
      showAge(c);
    });
    if (on) {
      if (stoppedShown) message("the lab is running again");
      stoppedShown = false;
    } else if (!stoppedShown) {
      message("the lab has stopped or cannot be reached: the cards show the last known values; start it again with npm start", true);
      stoppedShown = true;
    }
  }
  var live = false;
  var stoppedShown = false;

  function connect() {
    var es = new EventSource("/api/events");
    es.addEventListener("state", function (e) {
      var s = JSON.parse(e.data);
      showLab(s.lab);
      live = true; // before the cards, so they are not drawn stale
      s.devices.forEach(update);
      setLive(true);
    });
    es.addEventListener("device", function (e) {
      update(JSON.parse(e.data));
    });
    es.onerror = function () {
      if (live || !stoppedShown) setLive(false);
      // the browser retries by itself unless the answer was not an event stream; then try again here
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    };
  }
  setInterval(function () {
    Object.keys(cards).forEach(function (name) { showAge(cards[name]); });
  }, 1000);
  connect();
})();
