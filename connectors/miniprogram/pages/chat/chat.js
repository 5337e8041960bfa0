// The chat page (built with Component(), as WeChat allows for pages, so it renders in tests too): hot-question
// chips on an empty chat, the bot's answers with their options and ratings, 转人工 whenever the bot is stuck,
// agents' messages live over the WebSocket (the conversation read back after a reconnect), and elderly mode.
const config = require('../../config.js');
const {GovbotClient} = require('../../utils/api.js');
const {bubble, renderReply, renderEvent} = require('../../utils/format.js');
const {speechInput} = require('../../utils/voice.js');

const ELDERLY_KEY = 'govbot_elderly';
const WELCOME = '您好！我是政务通智能客服，可以解答办事指南、查询办件进度、预约办理，也可以帮您转人工（12345）。';
const END_HUMAN = '结束人工';
const HUMAN_AUTHORS = ['agent', 'system'];
const RATED = {satisfied: '感谢您的评价：满意', unsatisfied: '感谢您的评价，我们会改进。'};

Component({
  data: {
    messages: [],
    hot: [],
    draft: '',
    elderly: false,
    mode: 'bot',
    voice: false,
    recording: false,
    lastId: '',
  },

  lifetimes: {
    attached() {
      this.client = new GovbotClient(config);
      this.nextId = 1;
      this.humanLines = 0; // agent and system lines shown, to catch up on after a reconnect
      this.recogniser = speechInput((text) => this.send(text), (why) => this.say('system', why));
      this.setData({elderly: wx.getStorageSync(ELDERLY_KEY) === true, voice: Boolean(this.recogniser)});
      this.say('bot', WELCOME);
      this.ready = this.start();
    },
    detached() {
      if (this.socket) this.socket.close();
    },
  },

  methods: {
    async start() {
      const [hot] = await Promise.all([this.client.hotQuestions(), this.restore(false)]);
      this.setData({hot: this.data.messages.length > 1 ? [] : hot});
      this.socket = this.client.listen((event) => this.hear(event), (reconnected) => {
        if (reconnected) this.restore(true);
      });
    },

    /** The conversation so far: all of it on opening the page, the missed agent lines after a reconnect. */
    async restore(catchUp) {
      let history;
      try {
        history = await this.client.history();
      } catch (err) {
        if (!catchUp) this.say('system', err.message);
        return;
      }
      const lines = history.messages || [];
      if (catchUp) {
        lines.filter((line) => HUMAN_AUTHORS.includes(line.author)).slice(this.humanLines)
          .forEach((line) => this.hear(line));
        return;
      }
      const shown = lines.map((line) => renderEvent(line, this.nextId++)).filter(Boolean);
      this.humanLines = lines.filter((line) => HUMAN_AUTHORS.includes(line.author)).length;
      this.show(shown, history.mode);
    },

    /** A live event (or a missed one read back): an agent's message, a hand-off notice. */
    hear(event) {
      const shown = renderEvent(event, this.nextId);
      if (!shown) return;
      if (HUMAN_AUTHORS.includes(event.author)) this.humanLines += 1;
      const last = this.data.messages[this.data.messages.length - 1];
      if (shown.from === 'system' && last && last.from === 'system' && last.segments.map((s) => s.text).join('')
        === event.text) return; // the same notice twice in a row (socket and channel) is shown once
      this.nextId += 1;
      const mode = {agent_joined: 'human', ended: 'bot'}[event.type] || (event.author === 'agent' ? 'human' : undefined);
      this.show([shown], mode);
    },

    say(from, text, buttons) {
      this.show([bubble(this.nextId++, from, text, buttons)]);
    },

    show(bubbles, mode) {
      if (!bubbles.length && !mode) return;
      const messages = this.data.messages.concat(bubbles);
      const update = {messages, lastId: messages.length ? 'msg-' + messages[messages.length - 1].id : ''};
      if (mode) update.mode = mode;
      this.setData(update);
    },

    /** Sends what the citizen typed or picked; `shown` is what their bubble says (a button's title). */
    async send(message, shown) {
      this.setData({hot: []});
      this.say('me', shown || message);
      try {
        const reply = await this.client.ask(message);
        const bubbles = renderReply(reply, this.nextId);
        this.nextId += bubbles.length;
        this.show(bubbles, reply.mode);
      } catch (err) {
        this.say('system', err.message);
      }
    },

    onInput(e) {
      this.setData({draft: e.detail.value});
    },

    onSend() {
      const text = this.data.draft.trim();
      if (!text) return;
      this.setData({draft: ''});
      this.send(text);
    },

    onHot(e) {
      this.send(this.data.hot[e.currentTarget.dataset.index]);
    },

    async onChoose(e) {
      const {id, option} = e.detail;
      if (option.kind === 'service-rating') {
        try {
          await this.client.rateHumanService(option.payload);
          this.mark(id, RATED[option.payload]);
        } catch (err) {
          this.say('system', err.message);
        }
        return;
      }
      if (option.kind === 'rating') this.mark(id, '已评价：' + option.title);
      this.send(option.payload, option.title);
    },

    mark(id, chosen) {
      const index = this.data.messages.findIndex((m) => m.id === id);
      if (index >= 0) this.setData({[`messages[${index}]`]: {...this.data.messages[index], chosen}});
    },

    onEndHuman() {
      this.send(END_HUMAN);
    },

    onToggleElderly() {
      const elderly = !this.data.elderly;
      wx.setStorageSync(ELDERLY_KEY, elderly);
      this.setData({elderly});
    },

    onVoiceStart() {
      this.setData({recording: true});
      this.recogniser.start();
    },

    onVoiceEnd() {
      this.setData({recording: false});
      this.recogniser.stop();
    },
  },
});
