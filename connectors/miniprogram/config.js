// The one place to point the mini-program at a GovBot server. The address must be HTTPS and listed under
// 开发管理 → 开发设置 → 服务器域名 (request 合法域名 for https://, socket 合法域名 for wss://).
module.exports = {
  baseUrl: 'https://govbot.example.gov.cn',
  // live agent messages: a dropped socket is reopened after 1 s, 2 s, 4 s … at most this long apart
  maxReconnectDelayMs: 30000,
};
