// The GovBot server as the mini-program sees it: sign-in (wx.login → our session token), the chat API,
// the conversation's history and the human-service rating (authorised by the token, as mini-programs
// keep no cookies), and the conversation's WebSocket for live agent messages, reopened when it drops.

const SESSION_KEY = 'govbot_session';
const NETWORK_ERROR = '网络连接失败，请检查网络后重试，或拨打12345热线。';
const SERVER_ERROR = '服务暂时不可用，请稍后再试或拨打12345热线。';
const EXPIRY_MARGIN_MS = 60 * 1000;
const REFUSED = 4403; // the server's close code for a socket it does not authorise

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function detailOf(data) {
  if (data && typeof data.detail === 'string') return data.detail;
  if (data && Array.isArray(data.detail)) return '输入有误，请检查后重试。'; // FastAPI's 422 list
  return SERVER_ERROR;
}

/** One wx.request as a promise: the body on 2xx, an ApiError with the server's Chinese `detail` otherwise. */
function request(url, method, data, token) {
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      method,
      data,
      header: token ? {'Content-Type': 'application/json', Authorization: 'Bearer ' + token}
        : {'Content-Type': 'application/json'},
      timeout: 15000,
      success: (res) => (res.statusCode >= 200 && res.statusCode < 300 ? resolve(res.data)
        : reject(new ApiError(res.statusCode, detailOf(res.data)))),
      fail: () => reject(new ApiError(0, NETWORK_ERROR)),
    });
  });
}

function conversation(senderId) {
  return '/api/v1/conversations/' + encodeURIComponent(senderId);
}

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(new ApiError(0, '微信登录失败，请稍后重试。'))),
      fail: () => reject(new ApiError(0, '微信登录失败，请检查网络后重试。')),
    });
  });
}

class GovbotClient {
  constructor(config) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.maxReconnectDelayMs = config.maxReconnectDelayMs;
    this.session = null;
    this.pending = null;
  }

  /** The signed-in session {token, senderId, expiresAt}: kept in storage, renewed when it expires; callers
   * at the same moment share one wx.login. */
  signIn(force = false) {
    if (!force && !this.session) {
      const stored = wx.getStorageSync(SESSION_KEY);
      if (stored && stored.token && stored.expiresAt > Date.now() + EXPIRY_MARGIN_MS) this.session = stored;
    }
    if (!force && this.session) return Promise.resolve(this.session);
    if (!this.pending) this.pending = this.logIn().finally(() => { this.pending = null; });
    return this.pending;
  }

  async logIn() {
    const code = await wxLogin();
    const body = await request(this.baseUrl + '/api/v1/miniprogram/login', 'POST', {code});
    this.session = {token: body.token, senderId: body.sender_id, expiresAt: Date.now() + body.expires_in * 1000};
    wx.setStorageSync(SESSION_KEY, this.session);
    return this.session;
  }

  /** A request with our token, built for the session's conversation; a token the server no longer accepts
   * (401/403: expired or removed) is renewed once. */
  async authorised(method, build) {
    const send = (session) => {
      const {path, data} = build(session.senderId);
      return request(this.baseUrl + path, method, data, session.token);
    };
    try {
      return await send(await this.signIn());
    } catch (err) {
      if (err.status !== 401 && err.status !== 403) throw err;
      return send(await this.signIn(true));
    }
  }

  ask(message) {
    return this.authorised('POST', (sender) => ({
      path: '/api/v1/chat', data: {sender_id: sender, message, channel: 'miniprogram'}}));
  }

  /** The questions asked most lately, for the chips on an empty chat (none when the server cannot say). */
  hotQuestions() {
    return request(this.baseUrl + '/api/v1/hot-questions', 'GET').then((body) => body.questions || [], () => []);
  }

  /** The conversation so far ({mode, messages: [{author, text, at, agent?}]}), agent messages included. */
  history() {
    return this.authorised('GET', (sender) => ({path: `${conversation(sender)}/messages`}));
  }

  rateHumanService(rating) {
    return this.authorised('POST', (sender) => ({path: `${conversation(sender)}/rating`, data: {rating}}));
  }

  /** The conversation's live events, reopened after drops (`onOpen(reconnected)` lets the page catch up). */
  listen(onEvent, onOpen) {
    return new LiveSocket(this, onEvent, onOpen);
  }
}

class LiveSocket {
  constructor(client, onEvent, onOpen) {
    this.client = client;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.failures = 0;
    this.lastCloseCode = null;
    this.opened = false;
    this.closed = false;
    this.timer = null;
    this.connect();
  }

  async connect() {
    let session;
    try {
      session = await this.client.signIn(this.lastCloseCode === REFUSED);
      this.lastCloseCode = null;
    } catch (err) {
      this.retry();
      return;
    }
    if (this.closed) return;
    const url = this.client.baseUrl.replace(/^http/, 'ws') + `${conversation(session.senderId)}/ws`;
    const task = wx.connectSocket({url, header: {Authorization: 'Bearer ' + session.token}});
    this.task = task;
    task.onOpen(() => {
      const reconnected = this.opened;
      this.opened = true;
      this.failures = 0;
      this.onOpen(reconnected);
    });
    task.onMessage((msg) => {
      let event;
      try {
        event = JSON.parse(msg.data);
      } catch (err) {
        return;
      }
      this.onEvent(event);
    });
    task.onError(() => {}); // onClose follows and schedules the retry
    task.onClose((res) => {
      if (this.task !== task) return;
      this.task = null;
      this.lastCloseCode = res && res.code;
      this.retry();
    });
  }

  retry() {
    if (this.closed) return;
    const delay = Math.min(this.client.maxReconnectDelayMs, 1000 * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.task) {
      const task = this.task;
      this.task = null;
      task.close({code: 1000});
    }
  }
}

module.exports = {GovbotClient, ApiError, SESSION_KEY, NETWORK_ERROR};
