const {segments, splitAnswer, renderReply, renderEvent} = require('../utils/format');
const canned = require('./canned');

describe('segments', () => {
  test('splits http(s) links from the text, leaving sentence punctuation outside the link', () => {
    expect(segments('网上办理：https://zwfw.example.gov.cn/a?b=1&c=2。或者 http://x.cn/p.')).toEqual([
      {kind: 'text', text: '网上办理：'},
      {kind: 'link', text: 'https://zwfw.example.gov.cn/a?b=1&c=2', url: 'https://zwfw.example.gov.cn/a?b=1&c=2'},
      {kind: 'text', text: '。或者 '},
      {kind: 'link', text: 'http://x.cn/p', url: 'http://x.cn/p'},
      {kind: 'text', text: '.'},
    ]);
  });

  test('markup and other schemes stay plain text; a link stops at the first character outside a URL', () => {
    const parts = segments(canned.hostileLink.messages[0].text);
    expect(parts.filter((p) => p.kind === 'link')).toEqual(
      [{kind: 'link', text: 'https://zwfw.example.gov.cn/x', url: 'https://zwfw.example.gov.cn/x'}]);
    expect(parts.map((p) => p.text).join('')).toBe(canned.hostileLink.messages[0].text);
    expect(segments('javascript:alert(1) data:text/html,x')).toEqual(
      [{kind: 'text', text: 'javascript:alert(1) data:text/html,x'}]);
  });

  test('empty or missing text has no segments', () => {
    expect(segments('')).toEqual([]);
    expect(segments(undefined)).toEqual([]);
  });
});

describe('splitAnswer', () => {
  test('the short answer is the first sentence after the 【item】 header; the rest is kept whole', () => {
    const {short, rest} = splitAnswer(canned.ANSWER_TEXT);
    expect(short).toBe('【居民身份证补领】\n本人携带户口簿到户籍所在地派出所申请补领，拍照后按指纹。');
    expect(rest.startsWith('补领收费20元')).toBe(true);
    expect(`${short}${rest}`.replace(/\s/g, '')).toBe(canned.ANSWER_TEXT.replace(/\s/g, ''));
  });

  test('a short text is not split', () => {
    expect(splitAnswer('这个回答对您有帮助吗？')).toEqual({short: '这个回答对您有帮助吗？', rest: ''});
  });

  test('without an early sentence end the cut never falls inside a link', () => {
    const text = '请访问' + 'x'.repeat(40) + 'https://zwfw.example.gov.cn/' + 'a'.repeat(200);
    const {short, rest} = splitAnswer(text, 60);
    expect(short).toBe('请访问' + 'x'.repeat(40));
    expect(rest.startsWith('https://zwfw.example.gov.cn/')).toBe(true);
  });
});

describe('renderReply', () => {
  const titles = (b) => b.options.map((o) => `${o.kind}:${o.title}`);

  test('an answer: text bubble and the rating buttons, no 转人工', () => {
    const bubbles = renderReply(canned.answer, 1);
    expect(bubbles.map((b) => b.id)).toEqual([1, 2]);
    expect(titles(bubbles[1])).toEqual(['rating:满意', 'rating:不满意']);
    expect(bubbles.flatMap(titles).some((t) => t.startsWith('human'))).toBe(false);
  });

  test('a clarification: its options as buttons, and 转人工 added (never a dead end)', () => {
    const bubbles = renderReply(canned.clarify, 5);
    expect(titles(bubbles[0])).toEqual(['option:居民身份证补领', 'option:居民身份证换领']);
    expect(bubbles[1].prompt).toBe('');
    expect(titles(bubbles[1])).toEqual(['human:转人工']);
  });

  test('not understood: the closest items as 您是不是想问 buttons and 转人工', () => {
    const bubbles = renderReply(canned.notFound, 1);
    expect(bubbles[1].prompt).toBe('您是不是想问：');
    expect(bubbles[1].options).toEqual([
      {title: '结婚登记', payload: '/choose_option{"service_code":"MZ-HY-001"}', kind: 'option'},
      {title: '离婚登记', payload: '/choose_option{"service_code":"MZ-HY-002"}', kind: 'option'},
      {title: '转人工', payload: '/request_human', kind: 'human'},
    ]);
  });

  test('with a human already: nothing added', () => {
    expect(renderReply(canned.handedOff, 1)).toHaveLength(1);
  });
});

describe('renderEvent', () => {
  test('agent messages, and the end of the human service with its rating', () => {
    expect(renderEvent({type: 'message', author: 'agent', agent: '王芳', text: '您好'}, 3).from).toBe('agent');
    const ended = renderEvent({type: 'ended', author: 'system', text: '本次人工服务已结束', rate: true}, 4);
    expect(ended.from).toBe('system');
    expect(ended.options.map((o) => [o.kind, o.payload])).toEqual(
      [['service-rating', 'satisfied'], ['service-rating', 'unsatisfied']]);
    expect(renderEvent({type: 'ping'}, 5)).toBeNull();
  });
});
