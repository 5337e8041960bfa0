// Pure functions from the chat API's answers to what the chat page shows. No wx.* here, so they are
// tested on their own; the page binds their output into WXML text nodes only (never rich-text), so nothing
// a message contains can become markup.

const LINK = /https?:\/\/[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+/g;
const LINK_TAIL = /[.,;:!?]+$/; // sentence punctuation after an address is not part of it
const SENTENCE_END = /[。！？!?；;\n]/;
const HEADER_ONLY = /^【[^】]*】$/; // the answer's "【事项名称】" line says nothing on its own
const SHORT_LIMIT = 60;

const HUMAN_PAYLOAD = '/request_human';
const RATING_PREFIX = '/rate_answer';
const STUCK_DECISIONS = ['clarify', 'handoff'];
const SUGGESTIONS = 3;

/** Text split into plain and link segments: [{kind: 'text'|'link', text, url?}]. */
function segments(text) {
  const out = [];
  const value = String(text || '');
  let last = 0;
  value.replace(LINK, (match, offset) => {
    const url = match.replace(LINK_TAIL, '');
    if (offset > last) out.push({kind: 'text', text: value.slice(last, offset)});
    out.push({kind: 'link', text: url, url});
    last = offset + url.length;
    return match;
  });
  if (last < value.length) out.push({kind: 'text', text: value.slice(last)});
  return out;
}

/** Where a cut at `at` would fall inside a link, the link's start instead (a link is never split). */
function outsideLinks(text, at) {
  for (const m of text.matchAll(LINK)) {
    if (m.index < at && at < m.index + m[0].length) return m.index;
  }
  return at;
}

/** Elderly mode: the first real sentence of an answer (the short answer) and the rest ("查看详细"). */
function splitAnswer(text, limit = SHORT_LIMIT) {
  const value = String(text || '').trim();
  if (value.length <= limit) return {short: value, rest: ''};
  let cut = -1;
  for (let i = 0; i < value.length; i += 1) {
    if (SENTENCE_END.test(value[i]) && !HEADER_ONLY.test(value.slice(0, i).trim())) {
      cut = i + 1;
      break;
    }
  }
  if (cut < 0 || cut > 2 * limit) cut = outsideLinks(value, limit);
  const short = value.slice(0, cut).trim();
  const rest = value.slice(cut).trim();
  return rest && short ? {short, rest} : {short: value, rest: ''};
}

/** The kind of a button the bot offered: a rating, the hand-off, or a question/option to send. */
function buttonKind(payload) {
  if (payload === HUMAN_PAYLOAD) return 'human';
  if (String(payload).startsWith(RATING_PREFIX)) return 'rating';
  return 'option';
}

function options(buttons) {
  return (buttons || []).map((b) => ({title: String(b.title), payload: String(b.payload), kind: buttonKind(b.payload)}));
}

/** One bubble's view model. `from`: me | bot | agent | system. */
function bubble(id, from, text, buttons = [], prompt = '') {
  const {short, rest} = splitAnswer(text);
  return {
    id,
    from,
    prompt,
    segments: segments(text),
    shortSegments: segments(short),
    hasMore: Boolean(rest),
    expanded: false,
    options: options(buttons),
    chosen: '',
  };
}

function chooseOption(match) {
  return {title: match.title, payload: '/choose_option' + JSON.stringify({service_code: match.code})};
}

/**
 * The bubbles for one `POST /api/v1/chat` reply. Never a dead end: when the bot could not answer (it
 * asks to clarify or gives up), the closest items are offered as "您是不是想问" buttons and a 转人工 button is
 * always there.
 */
function renderReply(reply, nextId) {
  let id = nextId;
  const out = (reply.messages || []).map((m) => bubble(id++, 'bot', m.text, m.buttons));
  if (reply.mode !== 'bot' || !STUCK_DECISIONS.includes(reply.decision)) return out;
  const offered = new Set(out.flatMap((b) => b.options.map((o) => o.payload)));
  const suggestions = (reply.matches || []).slice(0, SUGGESTIONS).map(chooseOption)
    .filter((o) => !offered.has(o.payload));
  const buttons = offered.has(HUMAN_PAYLOAD) ? suggestions : [...suggestions, {title: '转人工', payload: HUMAN_PAYLOAD}];
  const hasOptions = out.some((b) => b.options.some((o) => o.kind === 'option'));
  if (buttons.length) out.push(bubble(id, 'bot', '', buttons, suggestions.length && !hasOptions ? '您是不是想问：' : ''));
  return out;
}

/** A live event from the conversation's WebSocket (or a stored message when the history is restored). */
function renderEvent(event, nextId) {
  if (!event || typeof event.text !== 'string' || !event.text) return null;
  if (event.author === 'agent') return bubble(nextId, 'agent', event.text);
  if (event.author === 'citizen') return bubble(nextId, 'me', event.text);
  if (event.author === 'bot') return bubble(nextId, 'bot', event.text);
  const rating = event.rate ? [{title: '满意', payload: 'satisfied'}, {title: '不满意', payload: 'unsatisfied'}] : [];
  const shown = bubble(nextId, 'system', event.text, rating);
  shown.options.forEach((o) => { o.kind = 'service-rating'; });
  return shown;
}

module.exports = {segments, splitAnswer, buttonKind, bubble, renderReply, renderEvent, HUMAN_PAYLOAD};
