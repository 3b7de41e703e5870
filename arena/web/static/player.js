// Paddock rater page: one control drives both clips in sync; sound from one side at a time;
// voting unlocks once both clips have played to the end (when the arena requires it).
// Sync: the audible clip leads; the muted one follows by nudging its playbackRate (inaudible),
// re-seeks only on a large drift (a seek stalls a slow decoder), and both hold while either
// waits for data.
window.paddock = (() => {
  const VOTES = ["pd-vote-a", "pd-vote-b", "pd-vote-tie", "pd-vote-bad"];
  const KEYS = { "1": 0, a: 0, "2": 1, b: 1, "3": 2, t: 2, "4": 3, x: 3 };
  // After the vote, the same keys answer the optional follow-up question shown (0 skips it).
  const FOLLOWUPS = ["pd-asp-a", "pd-asp-b", "pd-asp-tie", "pd-asp-skip"];
  const FOLLOWUP_KEYS = { "1": 0, a: 0, "2": 1, b: 1, "3": 2, t: 2, "0": 3 };
  const st = { battle: null, ended: [false, false], played: [0, 0], start: 0, audio: 0, voted: false, gate: true,
    playing: false, holding: false, votedAt: 0, votesShown: false };
  // Drift (s) under which the follower plays at rate 1, over which it is re-seeked; the rate
  // correction per second of drift, and its largest step (0.75x-1.25x keeps speech natural).
  const SYNC = { tickMs: 40, deadband: 0.012, seekAt: 0.4, gain: 3, maxStep: 0.25 };
  const $ = (id) => document.getElementById(id);
  const videos = () => [$("pd-video-a"), $("pd-video-b")];
  const root = () => document.querySelector(".pd-duel");

  function setBox(id, value) {
    const box = document.querySelector(`#${id} textarea, #${id} input`);
    if (!box || box.value === value) return;
    box.value = value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function report() {
    const elapsed = st.start ? (performance.now() - st.start) / 1000 : null;
    setBox("pd-playback", JSON.stringify({ battle: st.battle, a: st.played[0], b: st.played[1], elapsed }));
  }

  function unlocked() {
    return !st.gate || (st.ended[0] && st.ended[1]);
  }

  function refreshButtons() {
    const open = unlocked() && !st.voted && st.battle;
    for (const id of VOTES) {
      const btn = $(id);
      if (btn) btn.disabled = !open;
    }
    const status = $("pd-gate");
    if (status) {
      status.textContent = st.voted ? "Vote recorded." : open ? "Voting is open: 1 = A, 2 = B, 3 = tie, 4 = both bad."
        : "Play both clips to the end to unlock voting (space = play both, S = switch sound).";
    }
  }

  function applyAudio() {
    const [a, b] = videos();
    if (!a || !b) return;
    a.muted = st.audio !== 0;
    b.muted = st.audio !== 1;
    for (const [i, id] of [[0, "pd-audio-a"], [1, "pd-audio-b"]]) {
      const btn = $(id);
      if (btn) btn.classList.toggle("pd-on", st.audio === i);
    }
  }

  function reset() {
    const el = root();
    st.battle = el ? el.dataset.battle : null;
    st.gate = el ? el.dataset.gate !== "0" : true;
    st.ended = [false, false];
    st.played = [0, 0];
    st.start = performance.now();
    st.voted = false;
    st.audio = 0;
    st.playing = false;
    st.holding = false;
    st.votesShown = false;
    applyAudio();
    refreshButtons();
    report();
  }

  // Voting just opened after the clips played: on a short screen (a phone) the vote row sits
  // below the clips, out of view; bring it up once, its bottom at the screen's bottom.
  function showVotes() {
    const row = $("pd-votes");
    if (!row || st.votesShown || st.voted || !st.gate || !unlocked()) return;
    st.votesShown = true;
    const box = row.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) row.scrollIntoView({ block: "end" });
  }

  function playBoth() {
    const [a, b] = videos();
    if (!a || !b) return;
    if (st.playing || !a.paused || !b.paused) {
      st.playing = false;
      st.holding = false;
      a.pause();
      b.pause();
      return;
    }
    if (a.ended || b.ended) {
      a.currentTime = 0;
      b.currentTime = 0;
    }
    b.currentTime = a.currentTime;
    a.playbackRate = 1;
    b.playbackRate = 1;
    applyAudio();
    st.playing = true;
    a.play().catch(() => {});
    b.play().catch(() => {});
  }

  // [leader, follower]: the clip the rater hears leads.
  function roles() {
    const vs = videos();
    return [vs[st.audio], vs[1 - st.audio]];
  }

  function syncTick() {
    const [lead, follow] = roles();
    if (!lead || !follow) return;
    if (!st.playing || st.holding || lead.paused || follow.paused || lead.ended || follow.ended
        || lead.seeking || follow.seeking) {
      if (follow && follow.playbackRate !== 1) follow.playbackRate = 1;
      return;
    }
    const drift = follow.currentTime - lead.currentTime; // > 0: the follower is ahead
    if (Math.abs(drift) > SYNC.seekAt) {
      follow.playbackRate = 1;
      follow.currentTime = lead.currentTime;
      return;
    }
    const step = Math.max(-SYNC.maxStep, Math.min(SYNC.maxStep, -SYNC.gain * drift));
    const rate = Math.abs(drift) < SYNC.deadband ? 1 : 1 + step;
    if (Math.abs(follow.playbackRate - rate) > 0.005) follow.playbackRate = rate;
  }
  setInterval(syncTick, SYNC.tickMs);

  // One clip ran out of data: pause the other until it can play on, then start both together.
  function onWaiting(ev) {
    const vs = videos();
    const side = vs.indexOf(ev.target);
    if (side < 0 || !st.playing || vs[1 - side].ended) return;
    st.holding = true;
    vs[1 - side].pause();
  }

  function onCanPlay(ev) {
    const vs = videos();
    if (!st.holding || vs.indexOf(ev.target) < 0) return;
    if (!vs.every((v) => v.readyState >= 3 || v.ended)) return;
    st.holding = false;
    for (const v of vs) if (!v.ended && v.paused) v.play().catch(() => {});
  }

  function playAlone(side) {
    const vs = videos();
    st.playing = false;
    st.holding = false;
    const other = vs[1 - side];
    if (!vs[side]) return;
    other.pause();
    st.audio = side;
    applyAudio();
    if (vs[side].ended) vs[side].currentTime = 0;
    vs[side].play().catch(() => {});
  }

  function onTime(ev) {
    const vs = videos();
    const side = vs.indexOf(ev.target);
    if (side < 0) return;
    const v = ev.target;
    if (v.duration > 0) st.played[side] = Math.max(st.played[side], v.currentTime / v.duration);
    if (side === 0) {
      const seek = $("pd-seek");
      if (seek && v.duration > 0) seek.value = String(Math.round((1000 * v.currentTime) / v.duration));
      const time = $("pd-time");
      if (time) time.textContent = `${v.currentTime.toFixed(1)} / ${(v.duration || 0).toFixed(1)} s`;
    }
  }

  function onEnded(ev) {
    const side = videos().indexOf(ev.target);
    if (side < 0) return;
    st.ended[side] = true;
    st.played[side] = 1;
    // No seek to the end for the partner: kept within a frame or two, it ends on its own about
    // now, while a seek would stall a slow decoder for longer than the gap it closes.
    if (st.ended[0] && st.ended[1]) st.playing = false;
    refreshButtons();
    showVotes();
    report();
  }

  document.addEventListener("timeupdate", (ev) => { onTime(ev); }, true);
  document.addEventListener("ended", (ev) => { onEnded(ev); }, true);
  document.addEventListener("waiting", (ev) => { onWaiting(ev); }, true);
  document.addEventListener("canplay", (ev) => { onCanPlay(ev); }, true);
  document.addEventListener("playing", (ev) => { onCanPlay(ev); }, true);
  document.addEventListener("click", (ev) => {
    const t = ev.target.closest ? ev.target.closest("button, input") : null;
    if (!t) return;
    if (t.id === "pd-play") playBoth();
    else if (t.id === "pd-solo-a") playAlone(0);
    else if (t.id === "pd-solo-b") playAlone(1);
    else if (t.id === "pd-audio-a" || t.id === "pd-audio-b") { st.audio = t.id === "pd-audio-a" ? 0 : 1; applyAudio(); }
    else if (VOTES.includes(t.id)) {
      report();
      st.votedAt = performance.now();
      // Disable after Gradio has seen this click, so a double click sends one vote.
      setTimeout(() => { st.voted = true; refreshButtons(); }, 0);
    }
  }, true);
  document.addEventListener("input", (ev) => {
    if (ev.target && ev.target.id === "pd-seek") {
      const [a, b] = videos();
      if (!a || !b || !(a.duration > 0)) return;
      const t = (Number(ev.target.value) / 1000) * a.duration;
      a.currentTime = t;
      b.currentTime = Math.min(t, b.duration || t);
    }
  }, true);
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target && ev.target.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) && ev.target.id !== "pd-seek") return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const key = ev.key.toLowerCase();
    const ask = $("pd-followup");
    if (st.voted && key in FOLLOWUP_KEYS && ask && ask.offsetParent !== null) {
      const btn = $(FOLLOWUPS[FOLLOWUP_KEYS[key]]);
      if (btn && !btn.disabled) { ev.preventDefault(); btn.click(); }
    } else if (key in KEYS) {
      const btn = $(VOTES[KEYS[key]]);
      if (btn && !btn.disabled) { ev.preventDefault(); btn.click(); }
    } else if (key === " ") { ev.preventDefault(); playBoth(); }
    else if (key === "s") { st.audio = 1 - st.audio; applyAudio(); }
    else if (key === "n" || key === "enter") {
      const next = $("pd-next");
      if (next && st.voted) { ev.preventDefault(); next.click(); }
    }
  });
  // A new battle replaces the player's HTML: start over whenever a new battle id appears.
  // After a vote, bring the names and metrics into view when they are not (a phone).
  new MutationObserver(() => {
    const el = root();
    if (el && el.dataset.battle !== st.battle) reset();
    const reveal = $("pd-reveal");
    // The reveal renders in steps and the browser keeps its scroll anchored to what follows:
    // look again on each change for a few seconds after the vote.
    if (reveal && st.voted && performance.now() - st.votedAt < 4000) {
      const top = reveal.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight - 120) reveal.scrollIntoView({ block: "start" });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  return { reset, playBoth, playAlone, state: st };
})();
