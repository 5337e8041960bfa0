// A stand-in for the WeChat runtime the tests cannot run: wx.login, storage, clipboard, toasts, wx.request
// answered by a fake GovBot server (the real API's shapes), and wx.connectSocket sockets a test drives.

const OPENID = 'oCitizen0001';
const SENDER = 'wx-mp:' + OPENID;
const BASE = 'https://govbot.example.gov.cn';

class FakeSocket {
  constructor(options) {
    this.url = options.url;
    this.header = options.header || {};
    this.handlers = {};
    this.closedWith = null;
  }

  onOpen(fn) { this.handlers.open = fn; }

  onMessage(fn) { this.handlers.message = fn; }

  onClose(fn) { this.handlers.close = fn; }

  onError(fn) { this.handlers.error = fn; }

  close(options) { this.closedWith = options || {}; }

  // what the server does
  open() { this.handlers.open(); }

  push(event) { this.handlers.message({data: JSON.stringify(event)}); }

  drop(code = 1006) {
    this.handlers.error({errMsg: 'connection lost'});
    this.handlers.close({code});
  }
}

class FakeServer {
  constructor() {
    this.requests = [];
    this.chat = []; // canned answers to POST /api/v1/chat, in order
    this.tokens = new Set();
    this.logins = 0;
    this.history = {mode: 'bot', messages: []};
    this.hot = ['居民身份证补领', '护照首次申领', '社保卡补办'];
    this.ratings = [];
  }

  reply(answer) {
    this.chat.push(answer);
  }

  handle(method, url, data, header) {
    const path = url.slice(BASE.length);
    this.requests.push({method, path, data, header});
    const authorised = this.tokens.has((header.Authorization || '').replace(/^Bearer /, ''));
    const conversation = '/api/v1/conversations/' + encodeURIComponent(SENDER);
    if (method === 'POST' && path === '/api/v1/miniprogram/login') {
      this.logins += 1;
      const token = 'token-' + this.logins;
      this.tokens.add(token);
      return [200, {token, expires_in: 7 * 24 * 3600, sender_id: SENDER}];
    }
    if (method === 'GET' && path === '/api/v1/hot-questions') return [200, {questions: this.hot}];
    if (!authorised) return [401, {detail: '请先在小程序中登录。'}];
    if (method === 'POST' && path === '/api/v1/chat') {
      const answer = this.chat.shift();
      return answer ? [200, {sender_id: SENDER, ...answer}] : [503, {detail: '对话服务暂时不可用，请稍后再试或拨打12345热线。'}];
    }
    if (method === 'GET' && path === conversation + '/messages') return [200, {sender_id: SENDER, ...this.history}];
    if (method === 'POST' && path === conversation + '/rating') {
      this.ratings.push(data.rating);
      return [200, {ticket: 1, rating: data.rating}];
    }
    return [404, {detail: 'Not Found'}];
  }

  chats() {
    return this.requests.filter((r) => r.path === '/api/v1/chat').map((r) => r.data);
  }
}

/** Installs the fake runtime on the global `wx` that miniprogram-simulate provides. */
function installFakeWx(server) {
  const storage = new Map();
  const fake = {
    storage,
    sockets: [],
    clipboard: null,
    toasts: [],
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    login: ({success}) => Promise.resolve().then(() => success({code: 'wx-code-' + (server.logins + 1)})),
    request: ({url, method, data, header, success}) => {
      Promise.resolve().then(() => {
        const [statusCode, body] = server.handle(method || 'GET', url, data, header || {});
        success({statusCode, data: body, header: {}});
      });
    },
    connectSocket: (options) => {
      const socket = new FakeSocket(options);
      fake.sockets.push(socket);
      return socket;
    },
    setClipboardData: ({data, success}) => {
      fake.clipboard = data;
      success();
    },
    showToast: (options) => fake.toasts.push(options.title),
  };
  Object.assign(global.wx, fake);
  return fake;
}

module.exports = {FakeServer, installFakeWx, SENDER, BASE};
