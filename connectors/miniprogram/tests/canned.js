// Answers in the shapes POST /api/v1/chat returns (texts as the bot's actions write them).
const RATING = [
  {title: '满意', payload: '/rate_answer{"rating":"satisfied"}'},
  {title: '不满意', payload: '/rate_answer{"rating":"unsatisfied"}'},
];

const ANSWER_TEXT = '【居民身份证补领】\n本人携带户口簿到户籍所在地派出所申请补领，拍照后按指纹。'
  + '补领收费20元，20个工作日内领取。\n网上办理：https://zwfw.example.gov.cn/sfz/bl?from=mp。\n'
  + '（依据本市办事指南，更新于2026-11-01）\n还可以问我：办理材料、收费、办理时限、办理地点、网上办理，或说“预约办理”。';

const answer = {
  messages: [{text: ANSWER_TEXT}, {text: '这个回答对您有帮助吗？', buttons: RATING}],
  decision: 'answer',
  matches: [{code: 'GA-SFZ-002', title: '居民身份证补领', score: 0.93}],
  mode: 'bot',
};

const clarify = {
  messages: [{
    text: '您想咨询的是下面哪一项？请点选，或者说得更具体一些。',
    buttons: [
      {title: '居民身份证补领', payload: '/choose_option{"service_code":"GA-SFZ-002"}'},
      {title: '居民身份证换领', payload: '/choose_option{"service_code":"GA-SFZ-003"}'},
    ],
  }],
  decision: 'clarify',
  matches: [{code: 'GA-SFZ-002', title: '居民身份证补领', score: 0.61},
    {code: 'GA-SFZ-003', title: '居民身份证换领', score: 0.58}],
  mode: 'bot',
};

const notFound = {
  messages: [{text: '抱歉，没有找到相关的办事指南。您可以换个说法，比如说明要办的证件或事情（“身份证丢了怎么补”），也可以说“转人工”。'}],
  decision: 'handoff',
  matches: [{code: 'MZ-HY-001', title: '结婚登记', score: 0.31}, {code: 'MZ-HY-002', title: '离婚登记', score: 0.27}],
  mode: 'bot',
};

const handedOff = {
  messages: [{text: '已为您转接人工客服。您前面还有 0 位，预计等待约 1 分钟，请稍候。说“结束人工”可回到智能客服。'}],
  decision: 'handoff',
  matches: [],
  mode: 'human',
};

const hostileLink = {
  messages: [{text: '请点<a href="javascript:alert(1)">这里</a>或打开 https://zwfw.example.gov.cn/x<img src=x onerror=alert(2)>'}],
  decision: 'dialogue',
  matches: [],
  mode: 'bot',
};

module.exports = {answer, clarify, notFound, handedOff, hostileLink, ANSWER_TEXT, RATING};
