"""Keyboard shortcuts of the rate and arena pages, and the 'time on item' clock (client-side script).

    python -c "from collection_ui.shortcuts import KEY_HELP; print(KEY_HELP)"

The script only presses the page's own buttons, radio inputs and checkboxes (by element id), so a key does
exactly what a click does and goes through the same server-side checks. No keystroke is lost without a trace:

- Keys are ignored while typing in a text box, except `Ctrl+Enter` (submit; focus returns to the page) and
  `Esc` (leave the box). `r` jumps into the rationale box.
- After a submit or skip, keys pressed before the next item arrives are kept and replayed on it (the server
  answers every event with a fresh `#hitl-ack` value); a second Enter with no answer in between is a double
  press and is dropped, as a double click is.
- A key that does nothing here (an answer the campaign does not allow, nothing to submit) says so in
  `#hitl-keyhint` instead of doing nothing silently.
"""

from hitl.service.rating import CHOICE_LABELS

# The one key map of the answers: key -> the service's choice key (hitl.service.rating.CHOICES). The pages'
# labels, the help line and the script all read it.
CHOICE_KEYS = {"1": "a_much", "2": "a", "3": "tie", "4": "b", "5": "b_much", "0": "both_bad"}
KEY_OF_CHOICE = {choice: key for key, choice in CHOICE_KEYS.items()}
FLAG_KEYS = {"u": "unsafe", "f": "factually_wrong", "o": "off_topic", "n": "unsure"}
RATIONALE_KEY = "r"
SKIP_KEY = "s"

KEY_HELP = (
    "**Keys:** "
    + " · ".join(f"`{key}` {CHOICE_LABELS[choice]}" for key, choice in CHOICE_KEYS.items())
    + f" · `Enter` submit · `{SKIP_KEY}` skip · flags: "
    + ", ".join(f"`{key}` {flag.replace('_', ' ')}" for key, flag in FLAG_KEYS.items())
    + f" · `{RATIONALE_KEY}` write a rationale · `Ctrl+Enter` submits while typing · `Esc` leaves a text box"
)

_SCRIPT = """
<script>
(() => {
  const choiceKeys = %(choices)s;
  const flagKeys = %(flags)s;
  const RATIONALE = '%(rationale)s', SKIP = '%(skip)s';
  const q = (selector) => document.querySelector(selector);
  const valueOf = (id) => { const el = q(`#${id} input, #${id} textarea`); return el ? el.value : null; };
  const say = (text) => {
    const el = q('#hitl-keyhint .prose') || q('#hitl-keyhint');
    if (!el) return;
    el.textContent = text;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { el.textContent = ''; }, 4000);
  };
  const isTyping = (el) => el && (el.tagName === 'TEXTAREA' ||
    (el.tagName === 'INPUT' && !['radio', 'checkbox', 'button'].includes(el.type)));

  // After a submit or skip: the ack value it waits for a change of, and the keys pressed meanwhile.
  let waitingFor = null, waitingSince = 0, queued = [], queuedTyping = false;
  const keep = (entry) => {
    queued.push(entry);
    if (entry.key === RATIONALE) queuedTyping = true;
    if (entry.key === 'escape' || entry.key === 'enter') queuedTyping = false;
  };
  const send = (which) => {
    const button = q(which === 'submit' ? '#hitl-submit' : '#hitl-skip');
    if (!button || button.disabled) { say(`Nothing to ${which} here.`); return false; }
    const ack = valueOf('hitl-ack');
    if (ack !== null) { waitingFor = ack; waitingSince = Date.now(); }
    button.click();
    return true;
  };
  // Sent, and the server has not answered yet (afterwards the page is only settling on the new item).
  const inFlight = () => waitingFor !== null && valueOf('hitl-ack') === waitingFor;
  const typeInto = (box, text) => {
    box.focus();
    box.setRangeText(text, box.selectionStart, box.selectionEnd, 'end');
    box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const press = (key) => {
    if (key === 'enter') return send('submit');
    if (key === SKIP) return send('skip');
    if (key === RATIONALE) {
      const box = q('#hitl-rationale textarea');
      if (box) box.focus(); else say('No rationale box on this page.');
      return false;
    }
    if (key in choiceKeys) {
      const input = q(`#hitl-choice input[value="${choiceKeys[key]}"]`);
      if (input) input.click();
      else if (!q('#hitl-choice input')) say('No item on screen: nothing to answer.');
      else say(`Key ${key} is not an answer this campaign allows.`);
      return false;
    }
    if (key in flagKeys) {
      const box = q(`#hitl-flags input[name="${flagKeys[key]}"], #hitl-flags input[value="${flagKeys[key]}"]`);
      if (box) box.click(); else say('No flags on this page.');
    }
    return false;
  };
  // Replays what was pressed while the last submit was on its way, once the server has answered it.
  const replay = () => {
    if (waitingFor === null) return;
    const ack = valueOf('hitl-ack');
    if (ack === waitingFor) {
      if (Date.now() - waitingSince > 20000) {
        waitingFor = null;
        if (queued.length) say(`The server did not answer: ${queued.length} key(s) pressed meanwhile were not used.`);
        queued = [];
        queuedTyping = false;
      }
      return;
    }
    // The answer is in; let the page finish drawing the new item (and Gradio close the event) before replaying.
    if (!replay.settling) { replay.settling = Date.now(); return; }
    if (Date.now() - replay.settling < 200) return;
    replay.settling = 0;
    waitingFor = null;
    while (queued.length && waitingFor === null) {
      const next = queued.shift();
      if (next.text !== undefined) {
        const box = q('#hitl-rationale textarea');
        if (box) typeInto(box, next.text);
      } else if (next.key === 'escape') {
        if (isTyping(document.activeElement)) document.activeElement.blur();
      } else {
        if (next.key === 'enter' && isTyping(document.activeElement)) document.activeElement.blur();
        press(next.key);
      }
    }
    // What is still queued (after a replayed submit) decides whether later letters are text or keys.
    queuedTyping = queued.reduce(
      (on, k) => (k.key === RATIONALE ? true : ['escape', 'enter'].includes(k.key) ? false : on), false);
  };
  setInterval(replay, 50);

  document.addEventListener('keydown', (event) => {
    const typing = isTyping(event.target);
    const key = event.key === 'Enter' ? 'enter' : event.key === 'Escape' ? 'escape' : event.key.toLowerCase();
    // In flight, or a queue still to replay: keep the key. Settling on the new item (the answer is in, Gradio is
    // closing the event): answers apply at once, a submit or skip waits for the replay.
    const waiting = inFlight() || queued.length > 0 || (waitingFor !== null && (key === 'enter' || key === SKIP));
    // Typed after an `r` that waits in the queue: the text goes into the rationale box once the item is back.
    const intoBox = waiting && queuedTyping;
    if (key === 'escape') {
      if (waiting && intoBox) { keep({key}); event.preventDefault(); return; }
      if (typing) { event.target.blur(); event.preventDefault(); }
      return;
    }
    if (key === 'enter' && (event.ctrlKey || event.metaKey || !typing)) {
      event.preventDefault();
      if (typing) event.target.blur();
      if (!waiting) { send('submit'); return; }
      // A second Enter with nothing pressed since the first is a double press: one judgment, as a double click.
      if (!queued.length && inFlight()) { say('Saving the last answer: the second Enter was not counted.'); return; }
      keep({key});
      return;
    }
    if (waiting && intoBox && !event.ctrlKey && !event.metaKey && !event.altKey && event.key.length === 1) {
      keep({text: event.key});
      event.preventDefault();
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (!(key in choiceKeys || key in flagKeys || key === SKIP || key === RATIONALE)) return;
    event.preventDefault();
    if (waiting) {
      if (key === SKIP && !queued.length && inFlight()) { say('Skipping: the second press was not counted.'); return; }
      keep({key});
      return;
    }
    press(key);
  });
  // A real click on Submit or Skip waits for the server's answer too, so keys pressed meanwhile are kept.
  document.addEventListener('click', (event) => {
    if (!event.isTrusted || inFlight()) return;
    if (event.target.closest && event.target.closest('#hitl-submit, #hitl-skip')) {
      const ack = valueOf('hitl-ack');
      if (ack !== null) { waitingFor = ack; waitingSince = Date.now(); }
    }
  }, true);

  // Time on the current item, counted from when the lease started (a hidden field the server fills).
  setInterval(() => {
    const clock = q('#hitl-clock .prose') || q('#hitl-clock');
    if (!clock) return;
    const t0 = parseFloat(valueOf('hitl-started'));
    if (!isFinite(t0) || t0 <= 0) { clock.textContent = ''; return; }
    const s = Math.max(0, Math.floor(Date.now() / 1000 - t0));
    clock.textContent = `Time on this item: ${Math.floor(s / 60)}:${String(s %% 60).padStart(2, '0')}`;
  }, 1000);
})();
</script>
"""

SHORTCUTS_HEAD = _SCRIPT % {
    "choices": str(CHOICE_KEYS).replace("'", '"'),
    "flags": str(FLAG_KEYS).replace("'", '"'),
    "rationale": RATIONALE_KEY,
    "skip": SKIP_KEY,
}
