// Optional voice input through WeChat's 同声传译 (WechatSI) plugin. Without the plugin (not declared in
// app.json, not added to the AppID, or an old client) there is no recogniser and the page hides the button.

/** A recogniser {start, stop} calling `onText(text)` with what was said, or null when voice is unavailable. */
function speechInput(onText, onFail) {
  let manager;
  try {
    manager = requirePlugin('WechatSI').getRecordRecognitionManager();
  } catch (err) {
    return null;
  }
  manager.onStop = (res) => ((res.result || '').trim() ? onText(res.result.trim()) : onFail('没有听清，请再说一遍或直接输入文字。'));
  manager.onError = () => onFail('语音识别暂时不可用，请直接输入文字。');
  return {
    start: () => manager.start({lang: 'zh_CN', duration: 30000}),
    stop: () => manager.stop(),
  };
}

module.exports = {speechInput};
