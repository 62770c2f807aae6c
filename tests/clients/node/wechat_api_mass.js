// wechat-api (npm) 1.35.1, unmodified, driving WeChat mass messaging against a polytag server.
// Usage: node wechat_api_mass.js '{"url": ..., "appid": ..., "secret": ..., "tagId": 100, "openids": [...]}'
// Prints one JSON object: each step's answer, or {"errcode": N} when wechat-api reported an error.
'use strict';
const API = require('wechat-api');

const cfg = JSON.parse(process.argv[2]);
const api = new API(cfg.appid, cfg.secret);
api.endpoint = cfg.url; // a plain property in 1.35.1 (setEndpoint takes a host only)

function step(fn) {
  return new Promise((resolve) => {
    fn((err, data) => resolve(err ? { errcode: err.code, name: err.name } : data));
  });
}

(async () => {
  const out = {};
  out.byTag = await step((cb) => api.massSendText('按标签', cfg.tagId, cb));
  out.byList = await step((cb) => api.massSendText('按列表', cfg.openids, cb));
  out.toAll = await step((cb) => api.massSendNews('media-news-1', true, cb));
  out.image = await step((cb) => api.massSendImage('media-image-1', cfg.openids, cb));
  out.voice = await step((cb) => api.massSendVoice('media-voice-1', cfg.openids, cb));
  out.status = await step((cb) => api.getMassMessageStatus(out.byTag.msg_id, cb));
  out.deleted = await step((cb) => api.deleteMass(out.byTag.msg_id, cb));
  out.statusAfter = await step((cb) => api.getMassMessageStatus(out.byTag.msg_id, cb));
  out.preview = await step((cb) => api.previewText(cfg.openids[0], '预览', cb));
  out.oneOpenid = await step((cb) => api.massSendText('x', [cfg.openids[0]], cb));
  out.unknownTag = await step((cb) => api.massSendText('x', 999, cb));
  out.notAll = await step((cb) => api.massSendText('x', false, cb));
  process.stdout.write(JSON.stringify(out));
})();
