// The chat page rendered by miniprogram-simulate, with the WeChat runtime faked (tests/fake-wx.js).
const fs = require('fs');
const path = require('path');
const simulate = require('miniprogram-simulate');
const config = require('../config');
const {SESSION_KEY} = require('../utils/api');
const {FakeServer, installFakeWx, SENDER, BASE} = require('./fake-wx');
const canned = require('./canned');

const ROOT = path.resolve(__dirname, '..');
const PAGE = simulate.load(path.join(ROOT, 'pages/chat/chat'), {compiler: 'simulate', rootPath: ROOT});
let server;
let wxFake;
let page;

function renderPage() {
  const rendered = simulate.render(PAGE);
  rendered.attach(document.createElement('parent-wrapper'));
  return rendered;
}

async function opened() {
  page = renderPage();
  await page.instance.ready;
  await settle();
  return page;
}

const settle = () => simulate.sleep(5);

async function tap(node) {
  node.dispatchEvent('tap');
  await settle();
}

const bubbles = () => page.querySelectorAll('.message');
const lastBubble = () => bubbles()[bubbles().length - 1];
const bubbleText = (b) => b.dom.textContent;
const buttons = (b) => b.querySelectorAll('.option');
const buttonNamed = (title) => bubbles().flatMap(buttons).find((n) => n.dom.textContent === title);

async function ask(text) {
  const input = page.querySelector('.input');
  input.dispatchEvent('input', {detail: {value: text}});
  await settle();
  await tap(page.querySelector('.send'));
}

beforeEach(() => {
  server = new FakeServer();
  wxFake = installFakeWx(server);
});

afterEach(() => {
  if (page) page.detach();
  page = null;
});

test('signs in with wx.login, shows the welcome and the hot questions, and asks one with a tap', async () => {
  await opened();
  const login = server.requests.find((r) => r.path === '/api/v1/miniprogram/login');
  expect(login.data).toEqual({code: 'wx-code-1'});
  expect(wxFake.storage.get(SESSION_KEY)).toMatchObject({token: 'token-1', senderId: SENDER});
  expect(bubbleText(bubbles()[0])).toContain('政务通智能客服');
  const chips = page.querySelectorAll('.chip');
  expect(chips.map((c) => c.dom.textContent)).toEqual(server.hot);

  server.reply(canned.answer);
  await tap(chips[0]);
  const sent = server.requests.find((r) => r.path === '/api/v1/chat');
  expect(sent.data).toEqual({sender_id: SENDER, message: '居民身份证补领', channel: 'miniprogram'});
  expect(sent.header.Authorization).toBe('Bearer token-1');
  expect(bubbles().map((b) => b.dom.querySelector('.message-bubble--row').className)).toEqual([
    'message-bubble--row message-bubble--bot', 'message-bubble--row message-bubble--me',
    'message-bubble--row message-bubble--bot', 'message-bubble--row message-bubble--bot']);
  expect(bubbleText(bubbles()[2])).toContain('20个工作日内领取');
  expect(page.querySelectorAll('.chip')).toHaveLength(0); // the chips are for an empty chat
});

test('a clarification shows its options as buttons, and picking one sends its payload', async () => {
  await opened();
  server.reply(canned.clarify);
  await ask('身份证');
  expect(server.chats()[0].message).toBe('身份证');
  expect(buttons(lastBubble()).map((b) => b.dom.textContent)).toEqual(['转人工']);
  server.reply(canned.answer);
  await tap(buttonNamed('居民身份证换领'));
  expect(server.chats()[1].message).toBe('/choose_option{"service_code":"GA-SFZ-003"}');
  const mine = bubbles().filter((b) => b.dom.querySelector('.message-bubble--me'));
  expect(mine.map(bubbleText)).toEqual(['身份证', '居民身份证换领']); // the citizen's bubble shows the title
});

test('rating an answer sends the rating and replaces the buttons with a thank-you', async () => {
  await opened();
  server.reply(canned.answer);
  await ask('身份证丢了怎么补');
  server.reply({messages: [{text: '感谢您的反馈！'}], decision: 'dialogue', matches: [], mode: 'bot'});
  const rated = bubbles()[3];
  await tap(buttons(rated).find((b) => b.dom.textContent === '满意'));
  expect(server.chats()[1].message).toBe('/rate_answer{"rating":"satisfied"}');
  expect(buttons(rated)).toHaveLength(0);
  expect(bubbleText(rated)).toContain('已评价：满意');
});

test('when the bot cannot answer: 您是不是想问 buttons and 转人工, which hands off', async () => {
  await opened();
  server.reply(canned.notFound);
  await ask('我想问问那个事');
  const stuck = lastBubble();
  expect(bubbleText(stuck)).toContain('您是不是想问：');
  expect(buttons(stuck).map((b) => b.dom.textContent)).toEqual(['结婚登记', '离婚登记', '转人工']);
  server.reply(canned.handedOff);
  await tap(buttonNamed('转人工'));
  expect(server.chats()[1].message).toBe('/request_human');
  expect(page.querySelector('.status').dom.textContent).toContain('人工客服服务中');
  server.reply({messages: [{text: '好的，已为您结束人工服务，您可以继续向智能客服提问。'}], decision: 'dialogue',
    matches: [], mode: 'bot'});
  await tap(page.querySelector('.end-human'));
  expect(server.chats()[2].message).toBe('结束人工');
  expect(page.querySelector('.end-human')).toBeUndefined();
});

test('links are plain text nodes: markup in a message is shown, never rendered; a tapped link is copied', async () => {
  await opened();
  server.reply(canned.hostileLink);
  await ask('网址');
  const shown = lastBubble();
  const dom = shown.dom;
  expect(dom.querySelectorAll('a, img, rich-text, wx-rich-text, web-view, wx-web-view')).toHaveLength(0);
  expect(dom.textContent).toContain('<a href="javascript:alert(1)">这里</a>');
  const links = shown.querySelectorAll('.link');
  expect(links.map((l) => l.dom.textContent)).toEqual(['https://zwfw.example.gov.cn/x']);
  await tap(links[0]);
  expect(wxFake.clipboard).toBe('https://zwfw.example.gov.cn/x');
  expect(wxFake.toasts).toEqual(['链接已复制，请在浏览器中打开']);
});

test('elderly mode: large type, the short answer first with 查看详细, remembered across visits', async () => {
  await opened();
  server.reply(canned.answer);
  await ask('身份证丢了怎么补');
  const answer = bubbles()[2];
  expect(answer.querySelector('.more')).toBeUndefined();
  expect(bubbleText(answer)).toContain('20个工作日内领取');

  await tap(page.querySelector('.elderly-toggle'));
  expect(page.dom.querySelector('.main--page').className).toContain('main--elderly');
  expect(answer.dom.querySelector('.message-bubble--bubble').className).toContain('message-bubble--big');
  expect(bubbleText(answer)).toContain('拍照后按指纹。');
  expect(bubbleText(answer)).not.toContain('20个工作日内领取');
  expect(page.querySelector('.elderly-toggle').dom.textContent).toBe('标准模式');
  await tap(answer.querySelector('.more'));
  expect(bubbleText(answer)).toContain('20个工作日内领取');
  expect(answer.querySelector('.more')).toBeUndefined();
  expect(wxFake.storage.get('govbot_elderly')).toBe(true);

  page.detach();
  await opened();
  expect(page.dom.querySelector('.main--page').className).toContain('main--elderly');
});

test('agent messages arrive live over the WebSocket; the human service is rated after it ends', async () => {
  await opened();
  const socket = wxFake.sockets[0];
  expect(socket.url).toBe(`${BASE.replace('https', 'wss')}/api/v1/conversations/${encodeURIComponent(SENDER)}/ws`);
  expect(socket.header).toEqual({Authorization: 'Bearer token-1'});
  socket.open();
  socket.push({type: 'agent_joined', author: 'system', text: '客服 王芳 已接入，正在为您服务。', ticket: 7});
  socket.push({type: 'message', author: 'agent', agent: '王芳', text: '您好，请问身份证是在本市丢失的吗？', ticket: 7});
  await settle();
  expect(page.querySelector('.status').dom.textContent).toContain('人工客服服务中');
  expect(lastBubble().dom.querySelector('.message-bubble--agent')).not.toBeNull();
  expect(bubbleText(lastBubble())).toBe('人工客服您好，请问身份证是在本市丢失的吗？');

  socket.push({type: 'ended', author: 'system', text: '本次人工服务已结束，感谢您的耐心。', ticket: 7, rate: true});
  socket.push({type: 'message', author: 'system', text: '本次人工服务已结束，感谢您的耐心。'}); // the channel's copy
  await settle();
  expect(bubbles().filter((b) => bubbleText(b).includes('本次人工服务已结束'))).toHaveLength(1);
  expect(page.querySelector('.end-human')).toBeUndefined();
  await tap(buttonNamed('不满意'));
  expect(server.ratings).toEqual(['unsatisfied']);
  expect(server.chats()).toEqual([]); // rated through the conversation's rating API, not as a chat message
  expect(bubbleText(lastBubble())).toContain('感谢您的评价，我们会改进。');
});

test('a dropped socket is reopened and the agent lines missed meanwhile are read back once', async () => {
  config.maxReconnectDelayMs = 10;
  try {
    server.history = {mode: 'human', messages: [
      {author: 'citizen', text: '转人工', at: '2026-12-01T02:00:00'},
      {author: 'bot', text: '已为您转接人工客服。', at: '2026-12-01T02:00:01'},
      {author: 'system', text: '客服 王芳 已接入，正在为您服务。', at: '2026-12-01T02:00:05', agent: '王芳'},
    ]};
    await opened();
    expect(bubbles().map(bubbleText).slice(1)).toEqual(
      ['转人工', '已为您转接人工客服。', '客服 王芳 已接入，正在为您服务。']);
    expect(page.querySelectorAll('.chip')).toHaveLength(0); // a conversation in progress gets no chips
    expect(page.querySelector('.end-human')).toBeDefined();
    wxFake.sockets[0].open();
    wxFake.sockets[0].drop();
    server.history.messages.push({author: 'agent', text: '请提供丢失时间。', at: '2026-12-01T02:01:00', agent: '王芳'});
    await simulate.sleep(50);
    expect(wxFake.sockets).toHaveLength(2);
    wxFake.sockets[1].open();
    await settle();
    const texts = bubbles().map(bubbleText);
    expect(texts.filter((t) => t.includes('请提供丢失时间。'))).toEqual(['人工客服请提供丢失时间。']);
    expect(texts.filter((t) => t.includes('已接入'))).toHaveLength(1);
  } finally {
    config.maxReconnectDelayMs = 30000;
  }
});

test('a stored session the server no longer accepts is renewed once with a new wx.login', async () => {
  wxFake.storage.set(SESSION_KEY, {token: 'expired', senderId: SENDER, expiresAt: Date.now() + 3600e3});
  await opened();
  server.reply(canned.answer);
  await ask('身份证丢了怎么补');
  const chats = server.requests.filter((r) => r.path === '/api/v1/chat');
  expect(chats.map((r) => r.header.Authorization)).toEqual(['Bearer token-1']);
  expect(server.logins).toBe(1); // the history read renewed it first; the chat used the new token
  expect(wxFake.storage.get(SESSION_KEY).token).toBe('token-1');
});

test('errors reach the citizen in Chinese', async () => {
  await opened();
  await ask('身份证'); // no canned answer: the fake server answers 503 as the real one does without Rasa
  expect(bubbleText(lastBubble())).toContain('对话服务暂时不可用，请稍后再试或拨打12345热线。');
  wx.request = ({fail}) => Promise.resolve().then(() => fail({errMsg: 'request:fail'}));
  await ask('身份证');
  expect(bubbleText(lastBubble())).toContain('网络连接失败');
});

test('voice input: no button without the speech plugin; with it, what was said is sent', async () => {
  await opened();
  expect(page.querySelector('.voice')).toBeUndefined();
  page.detach();

  const manager = {start: jest.fn(), stop: jest.fn()};
  global.requirePlugin = (name) => (name === 'WechatSI' ? {getRecordRecognitionManager: () => manager} : null);
  try {
    await opened();
    const voice = page.querySelector('.voice');
    voice.dispatchEvent('touchstart');
    await settle();
    expect(manager.start).toHaveBeenCalledWith({lang: 'zh_CN', duration: 30000});
    voice.dispatchEvent('touchend');
    await settle();
    expect(manager.stop).toHaveBeenCalled();
    server.reply(canned.answer);
    manager.onStop({result: '身份证丢了怎么补'});
    await settle();
    expect(server.chats()[0].message).toBe('身份证丢了怎么补');
  } finally {
    delete global.requirePlugin;
  }
});

test('every control in the templates has an aria-label for screen readers', () => {
  const templates = ['pages/chat/chat.wxml', 'components/message-bubble/message-bubble.wxml'];
  for (const file of templates) {
    const wxml = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const controls = wxml.match(/<(button|input)\b[^>]*>/g);
    expect(controls.length).toBeGreaterThan(0);
    for (const control of controls) expect(control).toMatch(/aria-label="[^"]+"/);
    expect(wxml).not.toMatch(/rich-text|web-view/);
  }
});
