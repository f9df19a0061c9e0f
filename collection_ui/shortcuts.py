"""Keyboard shortcuts of the rate and arena pages, and the live 'time on item' clock (client-side script).

    python -c "from collection_ui.shortcuts import KEY_HELP; print(KEY_HELP)"

The script only presses the page's own buttons and radio inputs (by element id), so a key does exactly
what a click does and goes through the same server-side checks. Keys are ignored while typing in a
text box, except Ctrl+Enter, which submits from anywhere.
"""

from hitl.service.rating import CHOICE_LABELS

# The one key map of the answers: key -> the service's choice key (hitl.service.rating.CHOICES). The pages'
# labels, the help line and the script all read it.
CHOICE_KEYS = {"1": "a_much", "2": "a", "3": "tie", "4": "b", "5": "b_much", "0": "both_bad"}
KEY_OF_CHOICE = {choice: key for key, choice in CHOICE_KEYS.items()}
FLAG_KEYS = {"u": "unsafe", "f": "factually_wrong", "o": "off_topic", "n": "unsure"}

KEY_HELP = (
    "**Keys:** "
    + " · ".join(f"`{key}` {CHOICE_LABELS[choice]}" for key, choice in CHOICE_KEYS.items())
    + " · `Enter` submit · `s` skip · flags: "
    + ", ".join(f"`{key}` {flag.replace('_', ' ')}" for key, flag in FLAG_KEYS.items())
    + " · `Ctrl+Enter` submits while typing"
)

_SCRIPT = """
<script>
(() => {
  const choiceKeys = %(choices)s;
  const flagKeys = %(flags)s;
  const click = (selector) => {
    const el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  };
  const pick = (group, value) => {
    const input = document.querySelector(`#${group} input[value="${value}"]`);
    if (input) { input.click(); return true; }
    return false;
  };
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    const typing = target && (target.tagName === 'TEXTAREA' ||
      (target.tagName === 'INPUT' && !['radio', 'checkbox', 'button'].includes(target.type)));
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey || !typing)) {
      if (click('#hitl-submit')) event.preventDefault();
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    if (key in choiceKeys && pick('hitl-choice', choiceKeys[key])) event.preventDefault();
    else if (key in flagKeys && pick('hitl-flags', flagKeys[key])) event.preventDefault();
    else if (key === 's' && click('#hitl-skip')) event.preventDefault();
  });
  // Time on the current item, counted from when the lease started (a hidden field the server fills).
  setInterval(() => {
    const started = document.querySelector('#hitl-started textarea, #hitl-started input');
    if (!started) return;
    let clock = document.querySelector('#hitl-clock');
    if (!clock) {
      // Our own element, outside the Gradio tree, so re-renders never fight over it.
      clock = document.createElement('div');
      clock.id = 'hitl-clock';
      clock.style.cssText = 'position:fixed;right:1em;bottom:1em;padding:.3em .7em;border-radius:6px;' +
        'background:#222c;color:#fff;font:14px system-ui;z-index:1000';
      document.body.appendChild(clock);
    }
    const t0 = parseFloat(started.value);
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
}
