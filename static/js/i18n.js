// The field app's words: Vietnamese by default, English on request. A plain catalogue object,
// because the app has no build step and must work offline; `{name}` marks a parameter.
// The choice is kept in localStorage so the first paint is already in the right language.

const STORAGE_KEY = "cchc-lang";
export const LANGUAGES = ["vi", "en"];

const CATALOGUE = {
  "app.name": ["Kiểm tra CCHC", "CCHC inspection"],
  "app.failed": ["Không mở được ứng dụng. Hãy tải lại trang; dữ liệu đã lưu trên máy vẫn còn.",
    "The app could not start. Reload the page; data saved on the device is still there."],

  "status.online": ["Có mạng", "Online"],
  "status.offline": ["Không có mạng", "Offline"],
  "status.unsent": ["Chưa gửi: {ops} thay đổi, {photos} ảnh", "Unsent: {ops} changes, {photos} photos"],
  "status.all_sent": ["Đã gửi hết", "Everything sent"],
  "status.last_sync": ["Đồng bộ lúc {time}", "Synced at {time}"],
  "status.never_synced": ["Chưa đồng bộ", "Not synced yet"],
  "status.sync_now": ["Đồng bộ ngay", "Sync now"],
  "status.syncing": ["Đang đồng bộ…", "Syncing…"],
  "status.device": ["Thiết bị", "Device"],
  "status.attention": ["{n} mục cần xử lý", "{n} items need attention"],
  "status.uploading": ["Đang gửi ảnh: {percent}%", "Uploading photo: {percent}%"],
  "status.err_auth": ["Phiên đăng nhập đã hết hạn: hãy đăng nhập lại để gửi dữ liệu.",
    "Your session has ended: sign in again to send your work."],
  "status.err_offline": ["Dữ liệu được lưu trên máy và sẽ tự gửi khi có mạng.",
    "Your work is saved on the device and will be sent when the network is back."],
  "status.err_unreachable": ["Không kết nối được máy chủ; sẽ thử lại.", "Cannot reach the server; will retry."],
  "status.err_server": ["Máy chủ đang gặp lỗi; dữ liệu vẫn được giữ trên máy, sẽ thử lại.",
    "The server has a problem; your work stays on the device and will be retried."],
  "status.err_other": ["Chưa gửi được: {message}", "Could not send: {message}"],

  "banner.expired": ["Phiên đăng nhập đã hết hạn. Công việc chưa gửi vẫn được giữ trên máy này.",
    "Your session has ended. Unsent work is kept on this device."],
  "banner.sign_in_again": ["Đăng nhập lại", "Sign in again"],
  "banner.update": ["Đã có phiên bản mới của ứng dụng.", "A new version of the app is available."],
  "banner.reload": ["Tải lại", "Reload"],
  "banner.close": ["Đóng", "Close"],

  "login.title": ["Đăng nhập", "Sign in"],
  "login.lead": ["Đăng nhập một lần khi có mạng; sau đó ứng dụng làm việc được cả khi không có mạng.",
    "Sign in once while online; after that the app works without a network."],
  "login.again_title": ["Đăng nhập lại", "Sign in again"],
  "login.again_lead": ["Phiên đăng nhập đã hết hạn. Công việc chưa gửi vẫn được giữ và sẽ được gửi sau khi đăng nhập.",
    "Your session has ended. Unsent work is kept and will be sent after you sign in."],
  "login.need_network": ["Cần có mạng để đăng nhập.", "Signing in needs a network connection."],
  "login.username": ["Tên đăng nhập", "Username"],
  "login.password": ["Mật khẩu", "Password"],
  "login.submit": ["Đăng nhập", "Sign in"],
  "login.later": ["Để sau", "Later"],
  "login.offline": ["Không có mạng: chưa đăng nhập được. Hãy thử lại khi có sóng.",
    "No network: cannot sign in now. Try again when there is a signal."],
  "login.wrong": ["Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."],
  "login.failed": ["Chưa đăng nhập được. Hãy thử lại.", "Could not sign in. Try again."],
  "login.other_user": ["Trên máy còn công việc chưa gửi của {name}. Hãy đăng nhập bằng tài khoản đó để gửi đi trước.",
    "This device holds unsent work of {name}. Sign in as that person to send it first."],

  "list.title": ["Cuộc kiểm tra được giao", "Assigned inspections"],
  "list.hello": ["Xin chào {name}.", "Hello {name}."],
  "list.plan": ["Kế hoạch", "Plan"],
  "list.date": ["Ngày kiểm tra {date}", "Inspection date {date}"],
  "list.progress": ["Tiến độ", "Progress"],
  "list.answered": ["{answered}/{total} tiêu chí ({percent}%)", "{answered}/{total} items ({percent}%)"],
  "list.unsent": ["{n} thay đổi chưa gửi", "{n} unsent changes"],
  "list.empty": ["Chưa có cuộc kiểm tra nào được giao cho bạn.", "No inspection is assigned to you yet."],
  "list.empty_offline": ["Chưa có dữ liệu trên máy. Hãy kết nối mạng để tải các cuộc kiểm tra được giao.",
    "Nothing on this device yet. Connect to download your assigned inspections."],
  "list.fetched": ["Dữ liệu tải về lúc {time}", "Data downloaded at {time}"],

  "state.planned": ["Đã lên kế hoạch", "Planned"],
  "state.in_progress": ["Đang kiểm tra", "In progress"],
  "state.submitted": ["Đã gửi trưởng đoàn", "Submitted"],
  "state.approved": ["Đã duyệt", "Approved"],
  "state.signed": ["Đã ký", "Signed"],
  "role.leader": ["Trưởng đoàn", "Team leader"],
  "role.member": ["Thành viên", "Member"],
  "role.secretary": ["Thư ký", "Secretary"],

  "insp.back": ["Danh sách", "List"],
  "insp.missing_title": ["Không có trên máy này", "Not on this device"],
  "insp.missing": ["Cuộc kiểm tra này chưa được tải về máy, hoặc không còn được giao cho bạn.",
    "This inspection is not on this device, or no longer assigned to you."],
  "insp.team": ["Đoàn", "Team"],
  "insp.locked": ["Kết quả đã được duyệt: không sửa được trên máy. Liên hệ trưởng đoàn nếu cần mở lại.",
    "The results are approved and cannot be changed here. Ask the team leader to reopen them."],
  "insp.previous_recs": ["Kiến nghị lần kiểm tra trước ({n})", "Recommendations from the last visit ({n})"],
  "insp.due": ["Hạn {date}", "Due {date}"],
  "insp.jump_placeholder": ["Mã tiêu chí, ví dụ TTHC.25", "Item code, e.g. TTHC.25"],
  "insp.jump_label": ["Đi đến tiêu chí", "Go to item"],
  "insp.jump": ["Đi đến", "Go"],
  "insp.jump_unknown": ["Không có tiêu chí “{code}”.", "No item “{code}”."],
  "insp.sections": ["Các lĩnh vực", "Sections"],
  "insp.section_progress": ["Đã ghi {answered}/{total} tiêu chí", "{answered}/{total} items recorded"],
  "insp.section_failing": ["{n} cần xem lại", "{n} to review"],
  "insp.optional": ["không bắt buộc", "optional"],
  "insp.next_section": ["Lĩnh vực tiếp theo", "Next section"],
  "insp.save_failed": ["Chưa lưu được thay đổi vào máy. Giá trị vẫn được giữ tạm; hãy thử lại.",
    "Could not save the change on the device. It is kept temporarily; try again."],

  "checks.title": ["Kiểm tra tính nhất quán", "Consistency checks"],
  "checks.summary": ["{errors} lỗi, {others} cảnh báo/phát hiện", "{errors} errors, {others} warnings/findings"],
  "checks.none": ["số liệu đã nhập không mâu thuẫn", "the figures entered agree"],
  "checks.in_section": ["{n} kiểm tra chưa đạt trong lĩnh vực này", "{n} failing checks in this section"],
  "severity.error": ["Lỗi", "Error"],
  "severity.warning": ["Cảnh báo", "Warning"],
  "severity.finding": ["Phát hiện", "Finding"],
  "reason.division_by_zero": ["không tính được: chia cho 0", "cannot be computed: division by zero"],
  "reason.overflow": ["không tính được: số quá lớn", "cannot be computed: number too large"],

  "result.pass": ["Đạt", "Pass"],
  "result.partial": ["Đạt một phần", "Partly"],
  "result.fail": ["Không đạt", "Fail"],
  "result.na": ["Không áp dụng", "Not applicable"],
  "item.result": ["Kết quả", "Result"],
  "item.max_points": ["{n} điểm", "{n} points"],
  "item.points": ["Điểm (0–{max})", "Points (0–{max})"],
  "item.points_range": ["Điểm phải từ 0 đến {max}", "Points must be between 0 and {max}"],
  "item.count": ["Số lượng", "Count"],
  "item.count_invalid": ["Nhập số nguyên không âm, ví dụ 1081", "Enter a whole number, e.g. 1081"],
  "item.text": ["Nội dung", "Answer"],
  "item.description": ["Mô tả", "Description"],
  "item.note": ["Ghi chú", "Note"],
  "item.note_placeholder": ["Ghi chú của người kiểm tra", "Inspector's note"],
  "item.take_photo": ["Chụp ảnh", "Take photo"],
  "item.pick_photo": ["Chọn ảnh", "Choose photo"],
  "item.photo_alt": ["Ảnh minh chứng {code}", "Evidence photo {code}"],
  "item.photo_remote": ["Ảnh trên máy chủ", "Photo on server"],
  "item.photo_processing": ["Đang xử lý ảnh…", "Processing photo…"],
  "item.photo_failed": ["Không đọc được ảnh này.", "This image could not be read."],
  "item.unsent": ["Chưa gửi", "Not sent yet"],
  "item.conflict": ["Người khác cũng sửa mục này: cả hai giá trị được giữ, trưởng đoàn sẽ quyết định.",
    "Someone else changed this too: both values are kept and the team leader will decide."],
  "item.rejected": ["Máy chủ không nhận thay đổi: {message}", "The server did not accept the change: {message}"],
  "photo.pending": ["Chờ gửi", "Waiting"],
  "photo.uploading": ["Đang gửi", "Uploading"],
  "photo.done": ["Đã gửi", "Sent"],
  "photo.refused": ["Bị từ chối", "Refused"],
  "photo.remote": ["Trên máy chủ", "On server"],

  "ratio.no_cases": ["Không phát sinh", "Nothing to measure"],
  "ratio.missing": ["Chưa đủ số liệu: cần {codes}", "Missing figures: {codes}"],
  "ratio.target": ["mục tiêu {op} {value} %", "target {op} {value} %"],
  "ratio.met": ["Đạt mục tiêu", "Target met"],
  "ratio.not_met": ["Chưa đạt mục tiêu", "Target not met"],
  "ratio.no_target": ["chỉ để theo dõi", "for information"],
  "ratio.formula": ["Tính từ {formula}", "Computed as {formula}"],

  "rec.open": ["Chưa thực hiện", "Open"],
  "rec.done": ["Đã thực hiện", "Done"],
  "rec.verified": ["Đã xác minh", "Verified"],

  "field.result": ["kết quả", "result"],
  "field.points": ["điểm", "points"],
  "field.value": ["số lượng", "count"],
  "field.text": ["nội dung", "answer"],
  "field.note": ["ghi chú", "note"],

  "device.title": ["Thiết bị và dữ liệu", "Device and data"],
  "device.account": ["Tài khoản", "Account"],
  "device.expired": ["phiên đã hết hạn", "session ended"],
  "device.logout": ["Đăng xuất", "Sign out"],
  "device.logout_refused": ["Chưa thể đăng xuất: còn {what}. Đăng xuất sẽ xoá dữ liệu trên máy này, nên hãy đồng bộ khi có mạng (hoặc xuất dữ liệu chưa gửi và xử lý các mục cần xử lý) trước.",
    "You cannot sign out yet: there are {what}. Signing out erases this device's data, so sync while online (or export the unsent work and deal with the items that need attention) first."],
  "device.left_ops": ["{n} thay đổi chưa gửi", "{n} unsent changes"],
  "device.left_photos": ["{n} ảnh chưa gửi", "{n} unsent photos"],
  "device.left_rejected": ["{n} mục cần xử lý", "{n} items needing attention"],
  "device.logout_offline": ["Cần có mạng để đăng xuất (để kết thúc phiên trên máy chủ).",
    "Signing out needs the network (to end the session on the server)."],
  "device.attention_title": ["Cần xử lý ({n})", "Needs attention ({n})"],
  "device.attention_lead": ["Máy chủ không nhận các thay đổi dưới đây. Chúng vẫn được giữ trên máy: hãy xuất ra tệp rồi báo trưởng đoàn trước khi bỏ qua.",
    "The server did not accept the changes below. They are kept on the device: export them and tell the team leader before dismissing them."],
  "device.attention_none": ["Không có mục nào cần xử lý.", "Nothing needs attention."],
  "device.conflicts_title": ["Xung đột chờ trưởng đoàn quyết định ({n})", "Conflicts for the team leader ({n})"],
  "conflict.folded": ["{n} đề xuất khác cho trường này đã được gộp lại (trưởng đoàn thấy đề xuất đầu tiên và các đề xuất mới nhất).",
    "{n} more proposals folded (the leader sees the first proposal and the latest ones)."],
  "device.conflict_note": ["Không phải lỗi: máy chủ giữ cả hai giá trị và trưởng đoàn sẽ chọn.",
    "Not an error: the server kept both values and the team leader will choose."],
  "device.kind_rejected": ["Bị từ chối", "Refused"],
  "device.kind_conflict": ["Xung đột", "Conflict"],
  "device.kind_photo": ["Ảnh bị từ chối", "Photo refused"],
  "device.att_value": ["Giá trị {field}: {value}", "{field}: {value}"],
  "device.att_photo": ["Ảnh {file}", "Photo {file}"],
  "device.cleared": ["(xoá giá trị)", "(cleared)"],
  "device.server_said": ["Máy chủ trả lời: {message}", "The server said: {message}"],
  "device.dismiss": ["Bỏ qua", "Dismiss"],
  "device.dismiss_after_export": ["Hãy xuất dữ liệu chưa gửi trước khi bỏ qua.", "Export the unsent work before dismissing."],
  "device.export_title": ["Xuất dữ liệu chưa gửi", "Export unsent work"],
  "device.export_lead": ["Biện pháp cuối cùng: tải về một tệp JSON chứa mọi thay đổi và ảnh chưa gửi cùng các mục cần xử lý, để gửi cho quản trị viên.",
    "Last resort: download a JSON file with every unsent change and photo and the items needing attention, to hand to an administrator."],
  "device.export": ["Xuất tệp JSON", "Export JSON file"],
  "device.exported_at": ["Lần xuất gần nhất: {time}", "Last exported: {time}"],
  "device.storage_title": ["Bộ nhớ", "Storage"],
  "device.storage_used": ["Đã dùng", "Used"],
  "device.storage_of": ["{used} / {quota}", "{used} of {quota}"],
  "device.persistent": ["Lưu trữ bền vững", "Persistent storage"],
  "device.persistent_yes": ["Có: trình duyệt sẽ không tự xoá dữ liệu", "Yes: the browser will not evict the data"],
  "device.persistent_no": ["Chưa: hãy cài ứng dụng lên màn hình chính rồi bấm “Yêu cầu”", "No: install the app to the home screen, then press “Request”"],
  "device.persist": ["Yêu cầu lưu trữ bền vững", "Request persistent storage"],
};

let language = readLanguage();

function readLanguage() {
  try {
    const stored = globalThis.localStorage && localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch { /* storage blocked */ }
  return "vi";
}

/** The UI language: "vi" (default) or "en". */
export function getLanguage() {
  return language;
}

/** Switch the UI language and remember the choice on this device. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  language = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* storage blocked */ }
}

/** The message `key` in the UI language with `{name}` parameters filled; `fallback` if unknown. */
export function t(key, params = {}, fallback = undefined) {
  const entry = CATALOGUE[key];
  let text = entry ? entry[language === "en" ? 1 : 0] : (fallback ?? key);
  for (const [name, value] of Object.entries(params || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

/** A record's field in the UI language (title_vi / title_en), falling back to Vietnamese. */
export function loc(record, field) {
  if (!record) return "";
  return (language === "en" && record[`${field}_en`]) || record[`${field}_vi`] || "";
}
