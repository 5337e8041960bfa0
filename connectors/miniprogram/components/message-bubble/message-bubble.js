// One chat bubble: the text with its links (plain text nodes; a link is copied, never opened or injected),
// the short answer first in elderly mode with "查看详细" for the rest, and the bot's option buttons.
const LINK_COPIED = '链接已复制，请在浏览器中打开';

Component({
  properties: {
    message: {type: Object, value: {}},
    elderly: {type: Boolean, value: false},
  },

  data: {expanded: false, collapsed: false, shown: [], who: ''},

  observers: {
    'message, elderly, expanded': function update(message, elderly, expanded) {
      const collapsed = Boolean(elderly && message.hasMore && !expanded);
      const who = {me: '我', bot: '智能客服', agent: '人工客服', system: '系统消息'}[message.from] || '';
      this.setData({collapsed, who, shown: (collapsed ? message.shortSegments : message.segments) || []});
    },
  },

  methods: {
    onMore() {
      this.setData({expanded: true});
    },

    onOption(e) {
      const option = this.data.message.options[e.currentTarget.dataset.index];
      this.triggerEvent('choose', {id: this.data.message.id, option}, {bubbles: true, composed: true});
    },

    onLink(e) {
      wx.setClipboardData({
        data: e.currentTarget.dataset.url,
        success: () => wx.showToast({title: LINK_COPIED, icon: 'none'}),
      });
    },
  },
});
