// 政务通 GovBot mini-program. Sign-in and the server address live in utils/api.js and config.js; the one
// page is pages/chat/chat.
App({});
