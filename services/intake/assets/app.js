/* Lantern clinician pages: the report form (/) and the receipt page (/receipt).
   No framework, no external resources, no inline code (CSP default-src 'self').
   Nothing about the reporter is stored: localStorage keeps only the language. */
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // --- messages
  // Every visible string: id -> [zh-CN, en]. Elements carry data-i18n="id".
  var M = {
    'lang.switch': ['English', '中文'],
    'skip': ['跳到主要内容', 'Skip to main content'],
    'note': ['本系统为非惩罚性匿名上报，不收集您的身份信息。上报是为了改进系统，而不是追究个人责任。', 'This reporting system is anonymous and non-punitive: we do not collect who you are. Reports are used to improve the system, not to blame individuals.'],
    'form.title': ['不良事件匿名上报 · Lantern', 'Anonymous adverse-event report · Lantern'],
    'form.h1': ['不良事件匿名上报', 'Report an adverse event anonymously'],
    'form.required': ['除标注“选填”的项目外，均为必填。', 'All fields are required unless marked “optional”.'],
    'sec.where': ['在哪里、什么时候', 'Where and when'],
    'sec.what': ['发生了什么', 'About the event'],
    'sec.more': ['补充信息（选填）', 'More details (optional)'],
    'optional': ['（选填）', '(optional)'],
    'choose': ['请选择', 'Choose…'],
    'not_say': ['不填写', 'Not given'],
    'f.hospital': ['医院', 'Hospital'],
    'f.department': ['科室', 'Department'],
    'f.occurred_at': ['发生时间', 'When it happened'],
    'f.location': ['具体地点', 'Exact location'],
    'f.grade': ['事件分级', 'Event grade'],
    'f.harm': ['对患者的伤害程度（身体或心理，经处理后）', 'Harm to the patient (physical or psychological, after any intervention)'],
    'f.treatment_needed': ['这一轻度伤害是否需要额外处理？', 'Did this mild harm need anything more?'],
    'f.category': ['事件类别', 'Event category'],
    'f.description': ['事件经过', 'What happened'],
    'f.immediate_actions': ['已采取的紧急措施', 'Immediate actions taken'],
    'f.reporter_role': ['您的岗位', 'Your role'],
    'f.patient_age_band': ['患者年龄段', 'Patient age band'],
    'h.occurred_at': ['默认为现在，请改为事件实际发生的时间（不能晚于当前时间）。', 'Set to now; change it to when the event actually happened (not in the future).'],
    'h.location': ['例如：病房走廊、3 床旁、治疗室。', 'For example: ward corridor, beside bed 3, treatment room.'],
    'h.harm': ['指诊疗护理造成的身体或心理伤害，按采取处理措施之后的情况判断。可选项随事件分级而定；不清楚时请选“不确定”，分级将由质量管理部门核定。', 'Physical or psychological harm caused by care, judged after any intervention. The choices depend on the grade; pick “Unknown” if you are not sure: the safety office will then confirm the grade.'],
    'h.harm.limited': ['已按所选分级限制可选项（灰色为不适用）。伤害指身体或心理伤害，按处理之后的情况判断；不清楚时请选“不确定”，分级将由质量管理部门核定。', 'Choices are limited by the grade you picked (greyed out = not applicable). Harm is physical or psychological, judged after any intervention; pick “Unknown” if you are not sure: the safety office will then confirm the grade.'],
    'h.treatment_needed': ['需要额外处理的轻度伤害属于 II 级，无需任何处理即可完全康复的属于 III 级。', 'Mild harm that needed more care is grade II; mild harm that healed fully with nothing done is grade III.'],
    'tn.yes': ['需要', 'Yes'],
    'tn.yes.d': ['需要额外治疗、监测或延长住院时间。', 'It needed extra treatment, monitoring or a longer stay.'],
    'tn.no': ['不需要', 'No'],
    'tn.no.d': ['不需任何处理即可完全康复。', 'It healed fully with nothing done.'],
    'h.pii': ['请勿填写患者姓名、身份证号、电话、病案号（系统也会自动删除这些信息）。', 'Do not enter patient names, ID card numbers, phone numbers or medical record numbers (the system removes them anyway).'],
    'hospital.loading': ['正在加载医院列表…', 'Loading hospitals…'],
    'hospital.choose': ['请选择医院', 'Choose a hospital'],
    'hospital.none': ['尚未登记任何医院', 'No hospital registered yet'],
    'hospital.failed': ['医院列表加载失败，请检查网络后重试。', 'Could not load the list of hospitals. Check the network and try again.'],
    'hospital.retry': ['重新加载', 'Reload'],
    'department.first': ['请先选择医院', 'Choose a hospital first'],
    'department.choose': ['请选择科室', 'Choose a department'],
    'department.none': ['该医院尚未登记科室', 'No department registered for this hospital'],
    'grade.I': ['I 级 · 警告事件（警讯事件）', 'Grade I · Sentinel event'],
    'grade.I.d': ['非疾病本身造成的患者意外死亡，或永久性肢体、器官功能丧失。', 'Unexpected death, or permanent loss of a limb or organ function, not caused by the disease.'],
    'grade.II': ['II 级 · 不良后果事件', 'Grade II · Adverse outcome'],
    'grade.II.d': ['由诊疗护理（而非疾病本身）造成了患者伤害，包括需要额外治疗、监测或延长住院的轻度伤害。', 'Harm to the patient caused by care, not by the disease, including mild harm that needed extra treatment, monitoring or a longer stay.'],
    'grade.III': ['III 级 · 未造成后果事件', 'Grade III · No-harm event'],
    'grade.III.d': ['差错已发生在患者身上，但没有造成伤害，或仅有轻微伤害、无需处理。', 'An error reached the patient but caused no harm, or only minor harm needing no treatment.'],
    'grade.IV': ['IV 级 · 隐患事件 / 未遂事件（临界差错）', 'Grade IV · Near miss / latent hazard'],
    'grade.IV.d': ['差错在到达患者之前被发现，或存在可能造成伤害的隐患。', 'Caught before it reached the patient, or a hazard that could cause harm.'],
    'harm.death': ['死亡', 'Death'],
    'harm.severe': ['重度伤害', 'Severe harm'],
    'harm.severe.d': ['严重影响身体功能或生活质量。', 'Seriously affects bodily function or quality of life.'],
    'harm.moderate': ['中度伤害', 'Moderate harm'],
    'harm.moderate.d': ['影响身体功能或生活质量，但未达重度。', 'Affects bodily function or quality of life, less than severe.'],
    'harm.mild': ['轻度伤害', 'Mild harm'],
    'harm.mild.d': ['身体或心理症状轻微、功能影响轻微（下一步说明是否需要额外处理）。', 'Minimal physical or psychological symptoms or loss of function (next, say whether it needed more care).'],
    'harm.none': ['无伤害', 'No harm'],
    'harm.none.d': ['事件到达了患者，但未见身体或心理伤害。', 'It reached the patient, but no physical or psychological harm is evident.'],
    'harm.unknown': ['不确定', 'Unknown'],
    'harm.unknown.d': ['目前无法判断；分级暂定，由质量管理部门核定。', 'Cannot tell yet; the grade stays provisional until the safety office confirms it.'],
    'harm.not_applicable': ['不适用', 'Not applicable'],
    'harm.not_applicable.d': ['事件未到达患者（IV 级），谈不上伤害。', 'It did not reach the patient (grade IV), so there was no harm.'],
    'cat.medication': ['药物', 'Medication'],
    'cat.fall': ['跌倒/坠床', 'Fall / fall from bed'],
    'cat.surgery': ['手术', 'Surgery'],
    'cat.transfusion': ['输血', 'Transfusion'],
    'cat.procedure': ['医疗处置', 'Medical procedure'],
    'cat.tube': ['管路', 'Tubes and lines'],
    'cat.unexpected_arrest': ['院内不预期心跳呼吸停止', 'Unexpected in-hospital cardiac or respiratory arrest'],
    'cat.injury': ['伤害（自伤/自杀、伤人）', 'Injury (self-harm/suicide, assault)'],
    'cat.public_accident': ['公共意外', 'Public accident'],
    'cat.diet': ['饮食', 'Diet'],
    'cat.anesthesia': ['麻醉', 'Anaesthesia'],
    'cat.lab_specimen': ['检查/检验/病理标本', 'Examination / laboratory / pathology specimen'],
    'cat.pressure_injury': ['压力性损伤', 'Pressure injury'],
    'cat.occupational_exposure': ['职业暴露', 'Occupational exposure'],
    'cat.device': ['医疗器械', 'Medical device'],
    'cat.infection': ['院内感染', 'Hospital-acquired infection'],
    'cat.identification': ['身份识别', 'Patient identification'],
    'cat.information': ['信息系统', 'Information system'],
    'cat.security': ['治安', 'Security'],
    'cat.perinatal': ['围产期（孕产妇、新生儿）', 'Perinatal (mother, newborn)'],
    'cat.vte': ['静脉血栓栓塞症', 'Venous thromboembolism (VTE)'],
    'cat.elopement': ['走失', 'Elopement (patient went missing)'],
    'cat.critical_value_process': ['危急值报告缺陷', 'Critical-value reporting failure'],
    'cat.other': ['其他', 'Other'],
    'role.doctor': ['医生', 'Doctor'],
    'role.nurse': ['护士', 'Nurse'],
    'role.pharmacist': ['药师', 'Pharmacist'],
    'role.technician': ['技师', 'Technician'],
    'role.other': ['其他', 'Other'],
    'age.band': ['{a}–{b} 岁', '{a}–{b} years'],
    'age.90+': ['90 岁及以上', '90 years or older'],
    'age.0-28d': ['0–28 天（新生儿）', '0–28 days (newborn)'],
    'age.29d-11m': ['29 天–不满 1 岁', '29 days to under 1 year'],
    'submit': ['提交报告', 'Submit report'],
    'submitting': ['正在提交…', 'Submitting…'],
    'count': ['已输入 {n} / {max} 字', '{n} / {max} characters'],
    'err.required': ['请填写此项。', 'Please fill this in.'],
    'err.choose': ['请选择一项。', 'Please choose one.'],
    'err.future': ['发生时间不能晚于当前时间。', 'The time cannot be in the future.'],
    'err.time': ['请填写完整的日期和时间。', 'Please enter a full date and time.'],
    'err.toolong': ['内容过长（最多 {max} 字）。', 'Too long (at most {max} characters).'],
    'err.summary': ['有 {n} 项需要更正，请查看标出的项目。', '{n} field(s) need correcting; see the marked fields.'],
    'err.server.hospital': ['医院无效，请重新选择。', 'This hospital is not valid; please choose again.'],
    'err.server.department': ['科室无效，请重新选择。', 'This department is not valid; please choose again.'],
    'err.server.occurred_at': ['发生时间无效，或晚于当前时间。', 'The time is not valid, or it is in the future.'],
    'err.server.harm': ['伤害程度与事件分级不一致。', 'The harm does not match the event grade.'],
    'err.server.treatment_needed': ['是否需要额外处理与事件分级不一致。', 'Whether it needed more care does not match the event grade.'],
    'err.server.patient_age_band': ['年龄段无效，请重新选择。', 'The age band is not valid; please choose again.'],
    'err.server.grade': ['事件分级无效。', 'The grade is not valid.'],
    'err.server.category': ['事件类别无效。', 'The category is not valid.'],
    'err.server.field': ['此项有误。', 'This field is not valid.'],
    'err.network': ['无法连接服务器，请检查网络后再试。您填写的内容仍保留在页面上。', 'Cannot reach the server. Check the network and try again. What you entered is still on the page.'],
    'err.busy': ['服务器暂时繁忙，请稍后再试。您填写的内容仍保留在页面上。', 'The server is busy. Please try again shortly. What you entered is still on the page.'],
    'err.http': ['提交失败（错误 {status}）。', 'The request failed (error {status}).'],
    'err.413': ['内容过长，请缩短后再提交。', 'Too long. Please shorten it and submit again.'],
    'err.404.receipt': ['找不到这个回执码，请检查是否输入正确。', 'This receipt code was not found. Please check it.'],
    'err.receipt.format': ['回执码只包含字母和数字，请检查。', 'A receipt code has only letters and digits. Please check it.'],
    'retrying': ['网络不稳定，正在重试（第 {n} 次）…', 'Unstable network, retrying (attempt {n})…'],
    'done.h': ['报告已提交，谢谢！', 'Report submitted. Thank you!'],
    'done.save': ['请立即保存此回执码，仅显示一次。', 'Save this receipt code now — it is shown only once.'],
    'done.why': ['凭回执码可以查看处理进展和反馈，并补充信息。回执码丢失后无法找回。', 'With the code you can follow progress, read feedback and add details. A lost code cannot be recovered.'],
    'done.code': ['回执码', 'Receipt code'],
    'done.open': ['打开回执页（查看进展、补充信息）', 'Open the receipt page (progress, add details)'],
    'done.again': ['再上报一件事件', 'Report another event'],
    'done.leave': ['回执码仅显示一次，离开前请确认已保存。', 'The receipt code is shown only once. Make sure you saved it before leaving.'],
    'copy': ['复制回执码', 'Copy receipt code'],
    'copied': ['已复制回执码。请把它保存在安全的地方。', 'Receipt code copied. Keep it somewhere safe.'],
    'copy.manual': ['已选中回执码，请按 Ctrl+C（手机上长按）复制，或抄写下来。', 'The code is selected: press Ctrl+C (long-press on a phone) to copy it, or write it down.'],
    'nav.receipt': ['已有回执码？查看进展或补充信息', 'Have a receipt code? Follow progress or add details'],
    'nav.form': ['上报新的不良事件', 'Report a new adverse event'],
    'rc.title': ['查看回执 · Lantern', 'Receipt · Lantern'],
    'rc.h1': ['查看回执', 'Look up a receipt'],
    'rc.code': ['回执码', 'Receipt code'],
    'rc.code.h': ['提交报告时显示的回执码；不区分大小写，空格和短横线可有可无。', 'The code shown when you submitted the report; not case-sensitive, spaces and dashes are optional.'],
    'rc.lookup': ['查询', 'Look up'],
    'rc.loading': ['正在查询…', 'Looking up…'],
    'rc.view': ['报告进展', 'Report progress'],
    'rc.status': ['状态', 'Status'],
    'rc.grade': ['分级', 'Grade'],
    'rc.category': ['类别', 'Category'],
    'rc.filed_on': ['上报日期', 'Filed on'],
    'rc.lessons': ['根因分析的经验教训', 'Lessons from the root-cause analysis'],
    'rc.feedback': ['反馈与改进', 'Feedback and changes'],
    'rc.feedback.none': ['暂无反馈。质量管理部门处理后会在这里告诉您。', 'No feedback yet. The quality and safety office will tell you here.'],
    'rc.follow_ups': ['您的补充', 'Your additions'],
    'rc.follow_ups.none': ['暂无补充。', 'Nothing added yet.'],
    'rc.add': ['补充信息', 'Add details'],
    'rc.add.submit': ['提交补充', 'Submit addition'],
    'rc.added': ['补充已提交。', 'Your addition was submitted.'],
    'rc.loaded': ['已找到报告。', 'Report found.'],
    'status.received': ['已收到', 'Received'],
    'status.received.d': ['报告已收到，等待质量管理部门审核。', 'The report has been received and awaits review by the quality and safety office.'],
    'status.triaged': ['已审核', 'Reviewed'],
    'status.triaged.d': ['质量管理部门已审核并确认分级和类别。', 'The quality and safety office has reviewed it and confirmed the grade and category.'],
    'status.under_analysis': ['分析中', 'Under analysis'],
    'status.under_analysis.d': ['正在进行根因分析，查找系统层面的原因。', 'A root-cause analysis is looking for the causes in the system.'],
    'status.closed': ['已结案', 'Closed'],
    'status.closed.d': ['处理已完成。感谢您的上报。', 'Handling is complete. Thank you for reporting.']
  };

  var lang = 'zh-CN';
  try { if (window.localStorage.getItem('lantern.lang') === 'en') lang = 'en'; } catch (e) { /* storage off */ }

  function t(id, vars) {
    var e = M[id];
    if (!e) return id;
    return e[lang === 'en' ? 1 : 0].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function each(list, f) { Array.prototype.forEach.call(list, f); }

  // A translated text that follows the language switch (null clears it).
  function setMsg(node, id, vars) {
    if (!node) return;
    if (id) { node.setAttribute('data-i18n', id); node._vars = vars; node.textContent = t(id, vars); }
    else { node.removeAttribute('data-i18n'); node._vars = null; node.textContent = ''; }
  }
  var rerenders = [];
  function applyLang() {
    document.documentElement.lang = lang;
    each(document.querySelectorAll('[data-i18n]'), function (n) { n.textContent = t(n.getAttribute('data-i18n'), n._vars); });
    $('lang-switch').lang = lang === 'en' ? 'zh-CN' : 'en';
    document.title = document.querySelector('title').textContent;
    rerenders.forEach(function (f) { f(); });
  }

  // --- HTTP
  function uuid() {
    if (window.crypto.randomUUID && window.isSecureContext) return window.crypto.randomUUID();
    // randomUUID needs a secure context; an intranet ward PC may use plain HTTP.
    var b = window.crypto.getRandomValues(new Uint8Array(16)), h = '';
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    each(b, function (x) { h += (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // fetch with at most 3 attempts on network errors and 502/503/504, backing off
  // (honouring Retry-After) and re-sending the SAME Idempotency-Key.
  // Resolves to {status, ok, data} or {status: 0, network: true}.
  async function request(method, url, body, key, onRetry) {
    for (var attempt = 1; ; attempt++) {
      var res = null, ctl = window.AbortController ? new AbortController() : null;
      var timer = ctl && setTimeout(function () { ctl.abort(); }, 20000);
      var headers = { 'Accept': 'application/json, application/problem+json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (key) headers['Idempotency-Key'] = key;
      try {
        res = await fetch(url, {
          method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', signal: ctl ? ctl.signal : undefined
        });
      } catch (e) { res = null; }
      clearTimeout(timer);
      if ((res && [502, 503, 504].indexOf(res.status) < 0) || attempt >= 3) break;
      var wait = 1000 * Math.pow(2, attempt - 1) + Math.random() * 400;
      var ra = res && res.headers.get('Retry-After');
      if (ra) {
        ra = /^\s*\d+\s*$/.test(ra) ? ra * 1000 : Date.parse(ra) - Date.now();
        if (!isNaN(ra)) wait = Math.max(0, ra);
      }
      if (onRetry) onRetry(attempt + 1);
      await sleep(Math.min(wait, 15000));
    }
    if (!res) return { status: 0, network: true };
    var data = null;
    try { data = JSON.parse(await res.text()); } catch (e) { data = null; }
    return { status: res.status, ok: res.ok, data: data };
  }

  // --- errors
  var banner;
  function showBanner(lines) {
    clear(banner);
    lines.forEach(function (l, i) {
      var p = el(i ? 'p' : 'strong');
      if (l.id) setMsg(p, l.id, l.vars); else p.textContent = l.text;
      banner.appendChild(p);
    });
    banner.hidden = false;
  }
  function fieldErr(form, name, id, vars, serverText) {
    var e = $('e-' + name), c = form.elements[name], fs = form.querySelector('fieldset[data-field="' + name + '"]');
    clear(e);
    if (id) { var m = el('span'); setMsg(m, id, vars); e.appendChild(m); }
    if (serverText) { var s = el('span', 'server-msg', serverText); s.lang = ''; e.appendChild(s); }
    e.hidden = false;
    if (fs) fs.classList.add('invalid');
    if (c && c.tagName) c.setAttribute('aria-invalid', 'true');
  }
  function clearErr(form, name) {
    var e = $('e-' + name), c = form.elements[name], fs = form.querySelector('fieldset[data-field="' + name + '"]');
    if (!e) return;
    e.hidden = true;
    clear(e);
    if (fs) fs.classList.remove('invalid');
    if (c && c.tagName) c.removeAttribute('aria-invalid');
  }
  function clearErrs(form) {
    each(form.querySelectorAll('.err'), function (e) { clearErr(form, e.id.slice(2)); });
    banner.hidden = true;
  }
  function focusField(form, name) {
    var c = form.elements[name];
    if (c && !c.tagName) { // radio group: the checked one, else the first enabled one
      var rs = Array.prototype.slice.call(c);
      c = rs.filter(function (r) { return r.checked; })[0] || rs.filter(function (r) { return !r.disabled; })[0];
    }
    if (c && c.disabled) { // e.g. the hospital list failed to load: its retry button, else the banner
      var alt = c.closest('.field') && c.closest('.field').querySelector('button:not([hidden])');
      c = alt || (banner.hidden ? null : banner);
    }
    if (c) { c.focus(); c.scrollIntoView({ block: 'center' }); }
  }
  function problemOf(r) {
    var p = r.data && typeof r.data === 'object' ? r.data : {};
    return { title: p.title, detail: p.detail, errors: Array.isArray(p.errors) ? p.errors : [] };
  }
  function pointerField(ptr) {
    return String(ptr || '').replace(/^#?\//, '').split('/')[0].replace(/~1/g, '/').replace(/~0/g, '~');
  }
  // problem+json on a multi-field form: each pointer's message next to its field, the rest in the banner.
  function showProblem(form, r, msgIds, tooLongField) {
    var p = problemOf(r), first = null, rest = [];
    p.errors.forEach(function (e) {
      var name = pointerField(e.pointer), msg = typeof e.message === 'string' ? e.message : '';
      if (name && form.elements[name] && $('e-' + name)) {
        fieldErr(form, name, msgIds[name] || 'err.server.field', null, msg);
        first = first || name;
      } else if (msg) rest.push({ text: (name ? name + ': ' : '') + msg });
    });
    if (r.status === 413) { fieldErr(form, tooLongField, 'err.413'); first = first || tooLongField; }
    var lines = [r.status === 413 ? { id: 'err.413' } : first ? { id: 'err.summary', vars: { n: form.querySelectorAll('.err:not([hidden])').length } }
      : p.title ? { text: p.title } : { id: 'err.http', vars: { status: r.status } }];
    if (p.detail && r.status !== 413) lines.push({ text: p.detail });
    showBanner(lines.concat(rest));
    if (first) focusField(form, first); else banner.focus();
  }
  // problem+json on a one-field form: everything next to that field (its error is role=alert).
  function showFieldProblem(form, name, r, notFoundId) {
    var p = problemOf(r);
    var id = r.status === 413 ? 'err.413' : r.status === 404 && notFoundId ? notFoundId : null;
    var text = id ? '' : [p.title, p.detail].concat(p.errors.map(function (e) { return e.message; })).filter(Boolean).join(' — ');
    fieldErr(form, name, id || (text ? null : 'err.http'), { status: r.status }, text);
    focusField(form, name);
  }
  function showFailure(r) { // network error or 5xx after the retries
    showBanner(r.network ? [{ id: 'err.network' }] : [{ id: 'err.busy' }, { id: 'err.http', vars: { status: r.status } }]);
    banner.focus();
  }

  // --- shared widgets
  function counters(form) {
    var fs = [];
    each(form.querySelectorAll('textarea[data-counter]'), function (ta) {
      var c = $(ta.getAttribute('data-counter')), max = +ta.getAttribute('maxlength');
      function upd() { setMsg(c, 'count', { n: ta.value.length, max: max }); c.classList.toggle('near', ta.value.length > max * 0.95); }
      ta.addEventListener('input', upd);
      fs.push(upd);
    });
    function all() { fs.forEach(function (f) { f(); }); }
    all();
    rerenders.push(all);
    return all;
  }
  function busy(btn, on, labelId) { btn.disabled = on; setMsg(btn, labelId); }
  function groupCode(code) { return code.replace(/(.{4})(?=.)/g, '$1 '); }
  function normCode(s) { return String(s || '').replace(/[\s\-_\u2010-\u2015\u2212\uFF0D]/g, '').toUpperCase(); }
  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // --- report form
  // DESIGN.md "Grades" (v2): the harms each grade agrees with; mild says
  // whether it needed treatment (II) or not (III); IV did not reach the patient.
  var ALLOWED = { I: ['death', 'severe', 'unknown'], II: ['mild', 'moderate', 'severe', 'unknown'], III: ['none', 'mild', 'unknown'], IV: ['not_applicable'] };
  var TREATMENT = { II: 'yes', III: 'no' };
  var SERVER_MSG = {
    hospital: 'err.server.hospital', department: 'err.server.department', occurred_at: 'err.server.occurred_at',
    harm: 'err.server.harm', grade: 'err.server.grade', category: 'err.server.category',
    treatment_needed: 'err.server.treatment_needed', patient_age_band: 'err.server.patient_age_band'
  };
  var ORDER = ['hospital', 'department', 'occurred_at', 'location', 'grade', 'harm', 'treatment_needed', 'category', 'description', 'immediate_actions'];

  function localValue(d) { // for <input type=datetime-local>
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function parseLocal(v) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(v || '');
    return m ? new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) : null;
  }
  function rfc3339(d) { // local time with the browser's UTC offset at that instant: 2026-11-23T08:15:00+08:00
    var off = -d.getTimezoneOffset(), abs = Math.abs(off);
    return localValue(d) + ':' + pad(d.getSeconds()) + (off < 0 ? '-' : '+') + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60);
  }

  function initForm() {
    var form = $('report-form'), f = form.elements, status = $('status');
    var hosp = $('f-hospital'), dept = $('f-department'), when = $('f-occurred_at'), submit = $('submit');
    var hospitals = null, hospState = 'loading';
    var key = null, newKeyOnEdit = false, sending = false, code = '', unsaved = false;
    var refreshCounters = counters(form);

    function setNow() { when.value = localValue(new Date()); }
    function option(sel, value, text, id, vars) {
      var o = el('option', null, text);
      o.value = value;
      if (id) setMsg(o, id, vars);
      sel.appendChild(o);
    }
    function renderHospitals() {
      var keep = hosp.value, list = hospitals || [];
      clear(hosp);
      hosp.disabled = hospState !== 'ok' || !list.length;
      if (hospState !== 'ok') option(hosp, '', '', 'hospital.' + hospState);
      else if (list.length !== 1) option(hosp, '', '', list.length ? 'hospital.choose' : 'hospital.none');
      list.forEach(function (h) { option(hosp, h.code, h.name || h.code); });
      hosp.value = list.length === 1 ? list[0].code : keep;
      if (hosp.selectedIndex < 0) hosp.selectedIndex = 0;
      renderDepartments();
    }
    function renderDepartments() {
      var keep = dept.value, h = (hospitals || []).filter(function (x) { return x.code === hosp.value; })[0];
      var deps = h && Array.isArray(h.departments) ? h.departments : [];
      clear(dept);
      dept.disabled = !deps.length;
      option(dept, '', '', !h ? 'department.first' : deps.length ? 'department.choose' : 'department.none');
      deps.forEach(function (d) { option(dept, d.code, d.name || d.code); });
      dept.value = keep;
      if (dept.selectedIndex < 0) dept.selectedIndex = 0;
    }
    async function loadHospitals() {
      hospState = 'loading';
      $('hospitals-retry').hidden = true;
      clearErr(form, 'hospital');
      renderHospitals();
      var r = await request('GET', '/api/v1/hospitals');
      var ok = r.ok && r.data && Array.isArray(r.data.hospitals);
      hospitals = ok ? r.data.hospitals : null;
      hospState = ok ? 'ok' : 'failed';
      renderHospitals();
      if (!ok) { fieldErr(form, 'hospital', 'hospital.failed'); $('hospitals-retry').hidden = false; }
    }

    // The harms a grade allows (DESIGN.md); grade IV has the one choice,
    // and mild asks whether it needed treatment (only when mild is chosen,
    // so the usual report asks nothing more).
    function syncChoices() {
      var allowed = ALLOWED[f.grade.value];
      each(f.harm, function (r) {
        var ok = !allowed || allowed.indexOf(r.value) >= 0;
        r.disabled = !ok;
        if (!ok) r.checked = false;
        r.closest('.opt-card').classList.toggle('off', !ok);
      });
      if (allowed && allowed.length === 1) f.harm.value = allowed[0];
      var mild = f.harm.value === 'mild', fixed = TREATMENT[f.grade.value];
      $('fs-treatment_needed').hidden = !mild;
      each(f.treatment_needed, function (r) {
        var ok = mild && (!fixed || r.value === fixed);
        r.disabled = !ok;
        if (!ok) r.checked = false;
        r.closest('.opt-card').classList.toggle('off', mild && !ok);
      });
      if (mild && fixed) f.treatment_needed.value = fixed;
      setMsg($('h-harm'), allowed ? 'h.harm.limited' : 'h.harm');
      each(form.querySelectorAll('.opt-card input'), function (i) { i.closest('.opt-card').classList.toggle('checked', i.checked); });
    }

    function validate() {
      var bad = [];
      function fail(name, id, vars) { if (bad.indexOf(name) < 0) { fieldErr(form, name, id, vars); bad.push(name); } }
      if (hospState !== 'ok') fail('hospital', 'hospital.' + hospState);
      ['hospital', 'department', 'grade', 'harm', 'category'].forEach(function (n) { if (!f[n].value) fail(n, 'err.choose'); });
      if (f.harm.value === 'mild' && !f.treatment_needed.value) fail('treatment_needed', 'err.choose');
      var d = parseLocal(when.value);
      if (!when.value) fail('occurred_at', 'err.required');
      else if (!d || isNaN(d)) fail('occurred_at', 'err.time');
      else if (d.getTime() > Date.now() + 4 * 60000) fail('occurred_at', 'err.future');
      if (!f.description.value.trim()) fail('description', 'err.required');
      ['location', 'description', 'immediate_actions'].forEach(function (n) {
        var max = +f[n].getAttribute('maxlength');
        if (f[n].value.length > max) fail(n, 'err.toolong', { max: max });
      });
      return bad.sort(function (a, b) { return ORDER.indexOf(a) - ORDER.indexOf(b); });
    }
    function payload() {
      var body = {
        hospital: f.hospital.value, department: f.department.value, occurred_at: rfc3339(parseLocal(when.value)),
        grade: f.grade.value, harm: f.harm.value, category: f.category.value, description: f.description.value.trim()
      };
      ['location', 'immediate_actions', 'reporter_role', 'patient_age_band'].forEach(function (n) {
        var v = f[n].value.trim();
        if (v) body[n] = v; // optional fields are left out, never sent empty
      });
      if (body.harm === 'mild') body.treatment_needed = f.treatment_needed.value === 'yes';
      return body;
    }

    hosp.addEventListener('change', renderDepartments);
    when.addEventListener('focus', function () { when.max = localValue(new Date(Date.now() + 5 * 60000)); });
    $('hospitals-retry').addEventListener('click', loadHospitals);
    function onEdit(ev) {
      if (ev.target.name === 'grade' || ev.target.name === 'harm' || ev.target.name === 'treatment_needed') syncChoices();
      if (ev.target.name) clearErr(form, ev.target.name);
      if (newKeyOnEdit) { key = null; newKeyOnEdit = false; } // edited after a 4xx: a new submission
    }
    form.addEventListener('input', onEdit);
    form.addEventListener('change', onEdit);

    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      if (sending) return;
      clearErrs(form);
      var bad = validate();
      if (bad.length) {
        showBanner([{ id: 'err.summary', vars: { n: bad.length } }]);
        focusField(form, bad[0]);
        return;
      }
      key = key || uuid(); // kept for every retry of this submission
      sending = true;
      busy(submit, true, 'submitting');
      var r = await request('POST', '/api/v1/reports', payload(), key, function (n) { setMsg(status, 'retrying', { n: n }); });
      sending = false;
      busy(submit, false, 'submit');
      setMsg(status, null);
      if (r.ok && r.data && typeof r.data.receipt === 'string') {
        key = null;
        newKeyOnEdit = false;
        showReceipt(r.data.receipt);
      } else if (r.status >= 400 && r.status < 500) {
        newKeyOnEdit = true;
        showProblem(form, r, SERVER_MSG, 'description');
      } else showFailure(r); // the key is kept: trying again is the same submission
    });

    // The receipt: shown once, never stored.
    function showReceipt(rc) {
      code = normCode(rc);
      unsaved = true;
      $('receipt-code').textContent = groupCode(code);
      $('receipt-link').href = '/receipt#' + encodeURIComponent(code);
      setMsg($('copy-status'), null);
      form.hidden = true;
      $('done').hidden = false;
      window.scrollTo(0, 0);
      $('done-h').focus();
    }
    $('copy').addEventListener('click', async function () {
      var ok = false, sel = window.getSelection(), range = document.createRange();
      if (navigator.clipboard && window.isSecureContext) {
        try { await navigator.clipboard.writeText(code); ok = true; } catch (e) { ok = false; }
      }
      range.selectNodeContents($('receipt-code')); // selected either way: easy to copy by hand
      sel.removeAllRanges();
      sel.addRange(range);
      if (!ok) { try { ok = document.execCommand('copy'); } catch (e) { ok = false; } }
      if (ok) unsaved = false;
      setMsg($('copy-status'), ok ? 'copied' : 'copy.manual');
    });
    $('receipt-link').addEventListener('click', function () { unsaved = false; });
    window.addEventListener('beforeunload', function (ev) {
      if (unsaved) { ev.preventDefault(); ev.returnValue = t('done.leave'); return ev.returnValue; }
    });
    $('again').addEventListener('click', function () {
      var h = hosp.value, d = dept.value;
      unsaved = false;
      code = '';
      $('receipt-code').textContent = '';
      $('receipt-link').href = '/receipt';
      form.reset();
      hosp.value = h;
      renderDepartments();
      dept.value = d;
      setNow();
      syncChoices();
      refreshCounters();
      clearErrs(form);
      $('done').hidden = true;
      form.hidden = false;
      hosp.focus();
    });

    // Age bands (DESIGN.md, v2): newborn, infant, 1–4, 5–9, then ten-year bands.
    option(f.patient_age_band, '0-28d', '', 'age.0-28d');
    option(f.patient_age_band, '29d-11m', '', 'age.29d-11m');
    option(f.patient_age_band, '1-4', '', 'age.band', { a: 1, b: 4 });
    option(f.patient_age_band, '5-9', '', 'age.band', { a: 5, b: 9 });
    for (var a = 10; a <= 90; a += 10) {
      if (a < 90) option(f.patient_age_band, a + '-' + (a + 9), '', 'age.band', { a: a, b: a + 9 });
      else option(f.patient_age_band, '90+', '', 'age.90+');
    }
    setNow();
    syncChoices();
    loadHospitals();
  }

  // --- receipt page
  function initReceipt() {
    var lookup = $('lookup-form'), input = $('f-receipt'), fu = $('followup-form'), fuBtn = $('followup-submit');
    var status = $('status'), fuStatus = $('fu-status');
    var current = null, last = null, key = null, newKeyOnEdit = false, sending = false;
    var refreshCounters = counters(fu);

    function known(prefix, v) { return v == null ? '—' : M[prefix + v] ? t(prefix + v) : String(v); }
    function entries(ul, empty, items, dateKey) {
      items = Array.isArray(items) ? items : [];
      clear(ul);
      items.forEach(function (it) {
        var li = el('li'), date = it && it[dateKey];
        if (date) { var tm = el('time', null, date); tm.setAttribute('datetime', date); li.appendChild(tm); }
        li.appendChild(document.createTextNode(it && typeof it.text === 'string' ? it.text : ''));
        ul.appendChild(li);
      });
      ul.hidden = !items.length;
      empty.hidden = !!items.length;
    }
    function render() {
      if (!last) return;
      var d = last, box = $('v-lessons'), ls = d.lessons;
      $('view-code').textContent = groupCode(current);
      $('v-status').textContent = known('status.', d.status);
      $('v-status-d').textContent = M['status.' + d.status + '.d'] ? t('status.' + d.status + '.d') : '';
      $('v-grade').textContent = known('grade.', d.grade);
      $('v-category').textContent = known('cat.', d.category);
      $('v-filed_on').textContent = d.filed_on || '—';
      entries($('v-feedback'), $('v-feedback-empty'), d.feedback, 'posted_on');
      entries($('v-follow_ups'), $('v-follow_ups-empty'), d.follow_ups, 'added_on');
      ls = (Array.isArray(ls) ? ls : [ls]).map(function (x) { return typeof x === 'string' ? x : x && x.text; })
        .filter(function (x) { return typeof x === 'string' && x.trim(); });
      clear(box);
      ls.forEach(function (x) { box.appendChild(el('p', null, x)); });
      $('lessons-box').hidden = !ls.length;
      $('view').hidden = false;
    }
    rerenders.push(render);

    async function load(typed, after, announce) {
      var code = normCode(typed);
      clearErrs(lookup);
      if (!code || !/^[A-Z0-9]+$/.test(code)) {
        fieldErr(lookup, 'receipt', code ? 'err.receipt.format' : 'err.required');
        input.focus();
        return;
      }
      setMsg(status, 'rc.loading');
      var url = '/api/v1/receipts/' + encodeURIComponent(code), onRetry = function (n) { setMsg(status, 'retrying', { n: n }); };
      var r = await request('GET', url + (after != null ? '?after=' + encodeURIComponent(after) : ''), undefined, null, onRetry);
      if (after != null && r.status >= 400 && r.status < 500 && r.status !== 404) r = await request('GET', url, undefined, null, onRetry);
      setMsg(status, null);
      if (r.ok && r.data) {
        current = code;
        last = r.data;
        input.value = code;
        render();
        if (announce) { setMsg(status, 'rc.loaded'); $('view-h').focus(); }
        return;
      }
      current = last = null;
      $('view').hidden = true;
      if (r.status >= 400 && r.status < 500) showFieldProblem(lookup, 'receipt', r, 'err.404.receipt');
      else showFailure(r);
    }
    lookup.addEventListener('submit', function (ev) { ev.preventDefault(); load(input.value, null, true); });
    input.addEventListener('input', function () { clearErr(lookup, 'receipt'); });

    fu.addEventListener('input', function () {
      clearErr(fu, 'text');
      if (newKeyOnEdit) { key = null; newKeyOnEdit = false; }
    });
    fu.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      if (sending || !current) return;
      clearErrs(fu);
      var ta = fu.elements.text, text = ta.value.trim();
      if (!text) { fieldErr(fu, 'text', 'err.required'); ta.focus(); return; }
      key = key || uuid();
      sending = true;
      busy(fuBtn, true, 'submitting');
      var r = await request('POST', '/api/v1/receipts/' + encodeURIComponent(current) + '/follow-ups', { text: text }, key,
        function (n) { setMsg(fuStatus, 'retrying', { n: n }); });
      sending = false;
      busy(fuBtn, false, 'rc.add.submit');
      setMsg(fuStatus, null);
      if (r.ok) {
        key = null;
        newKeyOnEdit = false;
        ta.value = '';
        refreshCounters();
        // read-your-writes: ask for a view that includes the follow-up's stream sequence
        await load(current, r.data && r.data.seq != null ? r.data.seq : null, false);
        setMsg(fuStatus, 'rc.added');
      } else if (r.status >= 400 && r.status < 500) {
        newKeyOnEdit = true;
        showFieldProblem(fu, 'text', r, 'err.404.receipt');
      } else showFailure(r);
    });

    // /receipt#CODE: a fragment never reaches the server or its logs. Take the code and
    // drop it from the address bar so it does not linger on a shared ward PC.
    function fromHash() {
      var h = (location.hash || '').slice(1);
      if (!h) return;
      try { h = decodeURIComponent(h); } catch (e) { /* use as is */ }
      history.replaceState(null, '', location.pathname + location.search);
      input.value = normCode(h);
      load(h, null, true);
    }
    window.addEventListener('hashchange', fromHash);
    fromHash();
  }

  // --- boot
  function boot() {
    banner = $('banner');
    $('lang-switch').addEventListener('click', function () {
      lang = lang === 'en' ? 'zh-CN' : 'en';
      try { window.localStorage.setItem('lantern.lang', lang); } catch (e) { /* storage off */ }
      applyLang();
    });
    var page = document.body.getAttribute('data-page');
    if (page === 'form') initForm();
    else if (page === 'receipt') initReceipt();
    applyLang();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
