// i18n.js — every user-visible string, Vietnamese first, English second.
// Elements carry data-i18n="key" (text), data-i18n-label="key" (aria-label),
// data-i18n-placeholder="key"; applyTranslations() fills them in.

const STRINGS = {
  vi: {
    'app.title': 'Điểm Cầu',
    'app.subtitle': 'Họp trực tuyến Ủy ban nhân dân các cấp',
    'lang.switch': 'English',
    'lang.switchLabel': 'Switch to English',
    'join.heading': 'Tham gia cuộc họp',
    'join.name': 'Họ và tên',
    'join.namePlaceholder': 'Ví dụ: Nguyễn Văn An',
    'join.room': 'Tên phòng họp',
    'join.roomPlaceholder': 'Ví dụ: Phòng họp Sở Nội vụ',
    'join.roomHint': 'Gõ có dấu hay không dấu đều được, tối đa 64 ký tự. Mọi người gõ cùng một tên sẽ vào cùng một phòng.',
    'join.submit': 'Vào phòng họp',
    'join.joining': 'Đang vào phòng…',
    'join.previewHeading': 'Kiểm tra camera và micrô',
    'join.previewOff': 'Chưa có hình từ camera',
    'join.micLevel': 'Mức micrô',
    'join.micHint': 'Hãy nói thử: thanh màu xanh nhảy theo giọng bạn là micrô hoạt động. Bấm “Phát âm thanh thử” để kiểm tra loa.',
    'join.speakerTest': 'Phát âm thanh thử',
    'devices.camera': 'Camera',
    'devices.microphone': 'Micrô',
    'devices.none': 'Không dùng',
    'devices.unnamedCamera': 'Camera {n}',
    'devices.unnamedMic': 'Micrô {n}',
    'devices.heading': 'Thiết bị',
    'devices.close': 'Đóng',
    'meeting.room': 'Phòng: {room}',
    'meeting.count': '{n} người tham gia',
    'meeting.empty': 'Chưa có ai khác trong phòng. Vui lòng chờ các điểm cầu khác tham gia.',
    'meeting.you': 'Bạn',
    'meeting.selfLabel': '{name} (bạn)',
    'meeting.micMuted': 'Micrô đang tắt',
    'meeting.camMuted': 'Camera đang tắt',
    'left.heading': 'Bạn đã rời cuộc họp',
    'left.textRoom': 'Bạn đã rời phòng “{room}”. Camera và micrô đã tắt. Bấm “Vào lại phòng họp” khi bạn muốn tham gia tiếp.',
    'left.rejoin': 'Vào lại phòng họp',
    'left.toForm': 'Vào phòng khác',
    'media.connecting': 'Đang kết nối hình ảnh và âm thanh…',
    'media.retrying': 'Chưa kết nối được hình ảnh và âm thanh, đang thử lại (lần {n})…',
    'media.failed': 'Không kết nối được hình ảnh và âm thanh',
    'media.failedHelp': 'Không kết nối được hình ảnh và âm thanh với máy chủ, dù đã thử lại. Thường do mạng hoặc tường lửa chặn cổng UDP của máy chủ họp. Hãy báo quản trị viên mạng mở cổng đó (hoặc thử một mạng khác), rồi bấm “Thử lại”.',
    'media.retry': 'Thử lại',
    'tile.connecting': 'Đang kết nối…',
    'tile.retrying': 'Mất kết nối, đang thử lại…',
    'tile.stalled': 'Mất tín hiệu từ {name}, đang chờ…',
    'tile.waiting': 'Chưa nhận được hình ảnh và âm thanh của {name}',
    'tile.failed': 'Không nhận được hình ảnh và âm thanh',
    'control.bar': 'Điều khiển cuộc họp',
    'control.micOff': 'Tắt micrô',
    'control.micOn': 'Bật micrô',
    'control.camOff': 'Tắt camera',
    'control.camOn': 'Bật camera',
    'control.settings': 'Thiết bị',
    'control.leave': 'Rời phòng',
    'banner.lost': 'Mất kết nối, đang kết nối lại…',
    'banner.back': 'Đã kết nối lại.',
    'banner.rejoined': 'Đã kết nối lại và vào phòng lại.',
    'notice.joined': '{name} đã vào phòng',
    'notice.left': '{name} đã rời phòng',
    'notice.leftTimeout': '{name} đã mất kết nối',
    'notice.kicked': '{name} đã bị mời ra khỏi phòng',
    'error.room_full': 'Phòng họp đã đủ người. Vui lòng liên hệ người chủ trì.',
    'error.bad_sdp': 'Trình duyệt này không trao đổi được hình ảnh và âm thanh với máy chủ. Vui lòng dùng Chrome, Edge hoặc Firefox bản mới rồi vào phòng lại.',
    'error.bad_request': 'Thông tin gửi đi không hợp lệ. Vui lòng kiểm tra họ tên và tên phòng rồi thử lại; nếu vẫn lỗi, hãy tải lại trang (F5).',
    'error.bad_json': 'Trang họp và máy chủ không hiểu nhau, có thể do trang đã cũ. Vui lòng tải lại trang (F5) rồi vào phòng lại.',
    'error.too_large': 'Dữ liệu gửi đi quá lớn. Vui lòng tải lại trang (F5) rồi vào phòng lại.',
    'error.unknown_type': 'Máy chủ không hỗ trợ thao tác này, có thể do trang đã cũ. Vui lòng tải lại trang (F5).',
    'error.not_joined': 'Bạn chưa ở trong phòng họp. Vui lòng vào phòng lại.',
    'error.already_joined': 'Trang này đã vào một phòng họp. Vui lòng tải lại trang (F5) nếu muốn vào phòng khác.',
    'error.stale_version': 'Đang cập nhật luồng hình ảnh…',
    'error.unauthorized': 'Phòng họp này cần giấy mời hợp lệ. Vui lòng mở đường dẫn trong giấy mời, hoặc hỏi người chủ trì.',
    'error.resume_failed': 'Không khôi phục được phiên họp, đang vào phòng lại.',
    'error.rate_limited': 'Thao tác quá nhanh, vui lòng chờ một chút.',
    'error.internal': 'Máy chủ gặp lỗi. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, hãy báo quản trị viên.',
    'error.timeout': 'Máy chủ không trả lời. Vui lòng thử lại.',
    'error.connect': 'Không kết nối được tới máy chủ. Kiểm tra mạng rồi thử lại.',
    'error.closed': 'Kết nối tới máy chủ đã đóng.',
    'error.name': 'Vui lòng nhập họ và tên (tối đa 64 ký tự).',
    'error.room': 'Vui lòng nhập tên phòng họp (tối đa 64 ký tự, không có ký tự điều khiển).',
    'error.media': 'Không mở được camera hoặc micrô. Bạn vẫn có thể vào phòng để xem và nghe.',
    'error.mediaDenied': 'Trình duyệt chưa cho phép dùng camera và micrô. Bạn vẫn có thể vào phòng để xem và nghe.',
    'error.insecure': 'Trình duyệt chặn camera và micrô vì trang này được mở bằng http:// qua mạng, không phải https://. Bạn vẫn có thể vào phòng để xem và nghe. Quản trị viên máy chủ họp cần bật HTTPS: cấu hình chứng chỉ (tls_cert và tls_key, hướng dẫn trong docs/TLS.md của bộ cài), rồi mọi người mở trang bằng địa chỉ {https}.',
    'error.noMediaDevices': 'Trình duyệt này không dùng được camera và micrô. Vui lòng dùng Chrome, Edge hoặc Firefox bản mới. Bạn vẫn có thể vào phòng để xem và nghe.',
    'error.device': 'Không chuyển được thiết bị.',
    'error.unknown': 'Máy chủ báo lỗi (mã “{code}”). Vui lòng thử lại; nếu vẫn lỗi, hãy tải lại trang (F5) hoặc báo quản trị viên mã lỗi này.',
    'error.dismiss': 'Đóng thông báo',
  },
  en: {
    'app.title': 'Điểm Cầu',
    'app.subtitle': "Online meetings for People's Committees",
    'lang.switch': 'Tiếng Việt',
    'lang.switchLabel': 'Chuyển sang tiếng Việt',
    'join.heading': 'Join a meeting',
    'join.name': 'Full name',
    'join.namePlaceholder': 'e.g. Nguyễn Văn An',
    'join.room': 'Meeting room name',
    'join.roomPlaceholder': 'e.g. Phòng họp Sở Nội vụ',
    'join.roomHint': 'With or without accents, at most 64 characters. Everyone who types the same name meets in the same room.',
    'join.submit': 'Join meeting',
    'join.joining': 'Joining…',
    'join.previewHeading': 'Check camera and microphone',
    'join.previewOff': 'No camera picture',
    'join.micLevel': 'Microphone level',
    'join.micHint': 'Say something: if the green bar moves with your voice, the microphone works. Press “Play a test sound” to check your speakers.',
    'join.speakerTest': 'Play a test sound',
    'devices.camera': 'Camera',
    'devices.microphone': 'Microphone',
    'devices.none': 'Do not use',
    'devices.unnamedCamera': 'Camera {n}',
    'devices.unnamedMic': 'Microphone {n}',
    'devices.heading': 'Devices',
    'devices.close': 'Close',
    'meeting.room': 'Room: {room}',
    'meeting.count': '{n} participants',
    'meeting.empty': 'Nobody else is here yet. Please wait for the other sites to join.',
    'meeting.you': 'You',
    'meeting.selfLabel': '{name} (you)',
    'meeting.micMuted': 'Microphone off',
    'meeting.camMuted': 'Camera off',
    'left.heading': 'You left the meeting',
    'left.textRoom': 'You left the room “{room}”. Camera and microphone are off. Press “Join again” when you want to take part again.',
    'left.rejoin': 'Join again',
    'left.toForm': 'Join another room',
    'media.connecting': 'Connecting audio and video…',
    'media.retrying': 'Audio and video are not connected yet, trying again ({n})…',
    'media.failed': 'Audio and video could not connect',
    'media.failedHelp': 'Audio and video could not connect to the server, even after trying again. Usually the network or a firewall blocks the meeting server\'s UDP port. Ask the network administrator to open it (or try another network), then press “Try again”.',
    'media.retry': 'Try again',
    'tile.connecting': 'Connecting…',
    'tile.retrying': 'Connection lost, trying again…',
    'tile.stalled': 'No signal from {name}, waiting…',
    'tile.waiting': 'Nothing received from {name} yet',
    'tile.failed': 'No audio or video received',
    'control.bar': 'Meeting controls',
    'control.micOff': 'Mute microphone',
    'control.micOn': 'Unmute microphone',
    'control.camOff': 'Turn camera off',
    'control.camOn': 'Turn camera on',
    'control.settings': 'Devices',
    'control.leave': 'Leave',
    'banner.lost': 'Connection lost, reconnecting…',
    'banner.back': 'Reconnected.',
    'banner.rejoined': 'Reconnected and rejoined the room.',
    'notice.joined': '{name} joined',
    'notice.left': '{name} left',
    'notice.leftTimeout': '{name} lost connection',
    'notice.kicked': '{name} was removed from the room',
    'error.room_full': 'The meeting room is full. Please contact the chair.',
    'error.bad_sdp': 'This browser cannot exchange audio and video with the server. Please use a recent Chrome, Edge or Firefox and join again.',
    'error.bad_request': 'What was sent is not valid. Please check your name and the room name and try again; if it persists, reload the page (F5).',
    'error.bad_json': 'The page and the server do not understand each other, perhaps because the page is out of date. Please reload the page (F5) and join again.',
    'error.too_large': 'Too much data was sent at once. Please reload the page (F5) and join again.',
    'error.unknown_type': 'The server does not support this action, perhaps because the page is out of date. Please reload the page (F5).',
    'error.not_joined': 'You are not in a meeting room. Please join again.',
    'error.already_joined': 'This page has already joined a room. Reload the page (F5) to join another one.',
    'error.stale_version': 'Updating video streams…',
    'error.unauthorized': 'This meeting room needs a valid invitation. Please open the link in your invitation, or ask the chair.',
    'error.resume_failed': 'Could not resume the session, joining again.',
    'error.rate_limited': 'Too many actions, please wait a moment.',
    'error.internal': 'The server had an error. Please try again in a few minutes; if it persists, tell the administrator.',
    'error.timeout': 'The server did not answer. Please try again.',
    'error.connect': 'Cannot reach the server. Check the network and try again.',
    'error.closed': 'The connection to the server closed.',
    'error.name': 'Please enter your full name (at most 64 characters).',
    'error.room': 'Please enter the room name (at most 64 characters, no control characters).',
    'error.media': 'Could not open the camera or microphone. You can still join to watch and listen.',
    'error.mediaDenied': 'The browser did not allow camera and microphone. You can still join to watch and listen.',
    'error.insecure': 'The browser blocks camera and microphone because this page was opened over the network with http://, not https://. You can still join to watch and listen. The meeting server\'s administrator must turn on HTTPS: configure a certificate (tls_cert and tls_key, see docs/TLS.md in the installation), then everyone opens the page at {https}.',
    'error.noMediaDevices': 'This browser cannot use a camera and microphone. Please use a recent Chrome, Edge or Firefox. You can still join to watch and listen.',
    'error.device': 'Could not switch the device.',
    'error.unknown': 'The server reported an error (code “{code}”). Please try again; if it persists, reload the page (F5) or tell the administrator this code.',
    'error.dismiss': 'Dismiss',
  },
};

const STORAGE_KEY = 'diemcau.lang';
const listeners = new Set();
let lang = loadLang();

function loadLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && STRINGS[saved]) return saved;
  } catch { /* storage blocked */ }
  return 'vi';
}

export function getLang() { return lang; }

export function setLang(next) {
  if (!STRINGS[next] || next === lang) return;
  lang = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* ignore */ }
  applyTranslations();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Translate key, replacing {placeholders} from params. */
export function t(key, params = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, p) => (p in params ? String(params[p]) : m));
}

/**
 * Text for an error code, in the page's language. A code this page does not know (a newer
 * server) gets a sentence naming the code; the server's English `message` is left to the
 * console, not mixed into a Vietnamese sentence.
 */
export function errorText(code, message) {
  const key = `error.${code}`;
  if (STRINGS[lang][key]) return t(key);
  if (message) console.warn(`server error ${code}: ${message}`);
  return t('error.unknown', { code: code || '?' });
}

export function applyTranslations(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}
