// The four people's jobs in a real browser, against a running Lantern:
// the clinician files and reads feedback; the safety officer triages, posts
// feedback, opens a root-cause analysis and adds a factor by keyboard, looks
// at the worklists and the monthly pack; the QC analyst reads the rates and
// the u-chart, funnel and Pareto charts.
// Env: LANTERN_URL, SO_TOKEN (safety officer of H1), QC_TOKEN (QC centre of
// H1's region), SHOTS (screenshot directory). Exits non-zero on any
// failure or any console error.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.LANTERN_URL;
const shots = process.env.SHOTS || 'target/browser';
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
async function newPage(options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()} (${m.location().url})`); });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}
function check(cond, what) { if (!cond) throw new Error(`failed: ${what}`); }
let step = 0;
async function shot(page, name) { await page.screenshot({ path: `${shots}/${++step}-${name}.png`, fullPage: true }); }
// Every staff page: under 200 KB before its charts (the inline SVG), and a
// label (or aria-label) on every field.
async function audit(page, what) {
  const html = await page.content();
  const bytes = Buffer.byteLength(html.replace(/<svg[\s\S]*?<\/svg>/g, ''));
  check(bytes < 200 * 1024, `${what}: ${bytes} bytes before charts`);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.id || el.name));
  check(unlabelled.length === 0, `${what}: fields without a label: ${unlabelled.join(', ')}`);
}

try {
  // 1. A clinician files a report on a phone.
  const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(`${base}/`);
  await phone.waitForSelector('#f-hospital option[value="H1"]', { state: 'attached' });
  await phone.selectOption('#f-hospital', 'H1');
  await phone.waitForSelector('#f-department:not([disabled])');
  await phone.selectOption('#f-department', 'ICU');
  // datetime-local is in the browser's zone: two hours ago, local time.
  const then = new Date(Date.now() - 2 * 3600e3);
  const now = new Date(then.getTime() - then.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
  await phone.fill('#f-occurred_at', now);
  // Grade IV did not reach the patient: its one harm is chosen for the
  // reporter, and the others are off.
  await phone.check('#g-IV');
  check(await phone.isChecked('#hm-not_applicable'), 'grade IV chooses harm not applicable');
  check(await phone.isDisabled('#hm-none'), 'grade IV has no harm none');
  // Grade III with mild harm: the form asks whether it needed treatment,
  // and for grade III the answer can only be no.
  await phone.check('#g-III');
  check(await phone.isDisabled('#hm-not_applicable'), 'not applicable is for grade IV only');
  check(await phone.isHidden('#fs-treatment_needed'), 'no treatment question before mild');
  await phone.check('#hm-mild');
  check(await phone.isVisible('#fs-treatment_needed'), 'the treatment question after mild');
  check(await phone.isChecked('#tn-no') && await phone.isDisabled('#tn-yes'), 'grade III: mild needing no treatment');
  check((await phone.textContent('#h-harm')).includes('心理'), 'harm covers psychological harm');
  await phone.selectOption('#f-patient_age_band', '0-28d');
  for (const c of ['perinatal', 'vte', 'elopement', 'critical_value_process']) {
    check(await phone.locator(`#f-category option[value="${c}"]`).count() === 1, `category ${c} offered`);
  }
  check(await phone.locator('#f-patient_age_band option[value="0-9"]').count() === 0, 'the coarse 0-9 band is not offered');
  await phone.selectOption('#f-category', 'fall');
  await phone.fill('#f-description', '夜间患者如厕时跌倒，床栏未拉起 / patient fell at night, bed rail down');
  await shot(phone, 'clinician-form');
  await phone.click('#submit');
  await phone.waitForSelector('#done:not([hidden])');
  const receipt = (await phone.textContent('#receipt-code')).replace(/[^0-9A-Za-z]/g, '');
  check(receipt.length >= 16, `a receipt code (${receipt})`);
  await shot(phone, 'clinician-receipt');

  // 2. The safety officer signs in, triages it and posts feedback.
  const so = await newPage({ viewport: { width: 1024, height: 768 } });
  await so.goto(`${base}/staff/sign-in`);
  await so.fill('#token', process.env.SO_TOKEN);
  await so.click('button[type=submit]');
  await so.waitForURL('**/staff/reports');
  check(!(await so.content()).includes(process.env.SO_TOKEN), 'no token in the page');
  await shot(so, 'officer-inbox');
  await so.click('table tbody tr:first-child a');
  await so.waitForSelector('#t-grade');
  check(await so.inputValue('#t-harm') === 'mild' && await so.inputValue('#t-treatment') === 'no', 'the filed harm preselected');
  // A fall with moderate harm (a fracture) is not a grade IV event: the
  // triage is refused, naming harm, and appends nothing.
  await so.selectOption('#t-grade', 'IV');
  await so.selectOption('#t-harm', 'moderate');
  await so.selectOption('#t-treatment', '');
  const quiet = errors.length;
  await Promise.all([so.waitForLoadState('load'), so.click('form[action$="/triage"] button')]);
  check(!/saved=1/.test(so.url()), 'a disagreeing triage is not saved');
  check((await so.content()).includes('does not agree with grade IV'), 'the refusal names the disagreement');
  // The refusal is a 422 page, which Chromium logs as a failed load: the
  // one console error this step expects.
  check(errors.slice(quiet).every((e) => e.includes('status of 422')), `only the 422: ${errors.slice(quiet)}`);
  errors.splice(quiet);
  await so.selectOption('#t-grade', 'III');
  await so.selectOption('#t-category', 'fall');
  await so.selectOption('#t-harm', 'mild');
  await so.selectOption('#t-treatment', 'no');
  await so.fill('#t-note', '已核实');
  await Promise.all([so.waitForURL(/saved=1/), so.click('form[action$="/triage"] button')]);
  await shot(so, 'officer-triaged');
  await so.fill('#fb-text', '已在全院推行夜间床栏检查。 / Night-time bed-rail checks now hospital-wide.');
  await Promise.all([so.waitForURL(/saved=1/), so.click('form[action$="/feedback"] button')]);
  check((await so.content()).includes('bed-rail checks'), 'feedback shown to the officer');
  await shot(so, 'officer-feedback');
  await audit(so, 'report page');
  // … opens a root-cause analysis of it from the report page …
  await so.click('#rca-open summary');
  check(await so.isChecked('#open-rca input[name=report_ids]'), 'the report is preselected');
  await so.fill('#o-title', '夜间跌倒 / Night-time fall');
  await so.fill('#o-team', '护士长\n质控科');
  await Promise.all([so.waitForURL(/\/staff\/rca\/[0-9a-f-]+\?.*saved=1/), so.click('#open-rca button[type=submit]')]);
  await audit(so, 'case page');
  await shot(so, 'officer-rca-opened');
  // … and adds a factor with the keyboard alone.
  await so.focus('#fa-category');
  await so.selectOption('#fa-category', 'environment');
  await so.keyboard.press('Tab');
  await so.keyboard.type('夜间病房照明不足 / ward lighting too dim at night');
  await so.keyboard.press('Tab');
  await so.keyboard.type('为什么没看到床栏？');
  await so.keyboard.press('Tab');
  await Promise.all([so.waitForURL(/saved=1/), so.keyboard.press('Enter')]);
  check((await so.textContent('#factors ~ ul')).includes('lighting too dim'), 'the factor on its fishbone bone');
  await shot(so, 'officer-rca-factor');
  for (const [path, name] of [['/staff/rca', 'rca-list'], ['/staff/deaths', 'deaths'], ['/staff/critical-values', 'critical-values']]) {
    await so.goto(`${base}${path}`);
    await audit(so, path);
    await shot(so, `officer-${name}`);
  }
  await so.click('nav a[href="/staff/meeting"]');
  await so.waitForURL(/\/staff\/meeting\/\d{4}-\d{2}$/);
  check((await so.content()).includes('医疗质量安全月度分析'), 'the monthly quality and safety analysis');
  await audit(so, 'monthly pack');
  await shot(so, 'officer-monthly-pack');

  // 3. The clinician reads the feedback through the receipt.
  await phone.goto(`${base}/receipt#${receipt}`);
  await phone.waitForFunction(() => document.querySelector('#v-feedback')?.textContent.includes('bed-rail'));
  await shot(phone, 'clinician-feedback');

  // 4. A QC analyst signs in and sees the rate and the charts.
  const qc = await newPage({ viewport: { width: 1280, height: 900 } });
  await qc.goto(`${base}/staff/sign-in?lang=en`);
  await qc.fill('#token', process.env.QC_TOKEN);
  await qc.click('button[type=submit]');
  await qc.waitForURL('**/staff/dashboard');
  const html = await qc.content();
  check(html.includes('Reports per 100 discharges'), 'English remembered; the rate column');
  check(await qc.locator('#funnel svg').count() === 1, 'a funnel plot');
  check(await qc.locator('figure.uchart svg').count() >= 1, 'a u-chart');
  check(await qc.locator('#pareto svg rect').count() >= 1, 'a Pareto chart with its bars');
  await audit(qc, 'dashboard');
  await shot(qc, 'qc-dashboard');

  // 5. The QC centre's dispatch meeting: it reads the region pack (the
  // hospital table and the case list), then sends H1 a rectification
  // notice; H1's safety officer answers it from its workspace.
  await qc.click('nav a[href="/staff/meeting"]');
  await qc.waitForURL(/\/staff\/meeting\/\d{4}-\d{2}$/);
  const month = qc.url().slice(-7);
  const packHtml = await qc.content();
  check(packHtml.includes('每月工作调度会') && packHtml.includes('id="hospitals"'), 'the region pack with its hospital table');
  check(packHtml.includes('病例清单'), 'the case list');
  await shot(qc, 'qc-region-pack');
  await qc.goto(`${base}/staff/follow-ups`);
  await qc.selectOption('#fu-hospital', 'H1');
  await qc.selectOption('#fu-kind', 'rectification');
  await qc.fill('#fu-title', '夜间跌倒整改 / night-time falls');
  await qc.fill('#fu-text', '请提交夜间巡视与床栏检查的整改方案。');
  const due = new Date(Date.now() + 14 * 86400e3).toISOString().slice(0, 10);
  await qc.fill('#fu-due', due);
  await qc.fill('#fu-meeting', month);
  await audit(qc, 'follow-ups');
  await Promise.all([qc.waitForURL(/\/staff\/follow-ups\/[0-9a-f-]+\?.*saved=1/), qc.click('form[action="/staff/follow-ups"] button')]);
  const item = qc.url().split('?')[0];
  await shot(qc, 'qc-follow-up-sent');
  await so.goto(`${base}/staff/follow-ups`);
  check((await so.content()).includes('night-time falls'), 'the hospital sees the notice in its workspace');
  await so.goto(item);
  await so.fill('#fa-text', '已执行每 2 小时夜间巡视 / two-hourly night rounds since this week');
  await Promise.all([so.waitForURL(/saved=1/), so.click('form[action$="/answer"] button')]);
  check((await so.textContent('#fu-answers')).includes('two-hourly'), 'the answer shown');
  await audit(so, 'follow-up item');
  await shot(so, 'officer-follow-up-answered');
  await qc.goto(item);
  check((await qc.textContent('#fu-state')).trim().length > 0 && (await qc.content()).includes('two-hourly'), 'the QC centre reads the answer');

  // 6. The QC centre sets its region's reporting-rate target, reads the
  // year to date with its strata, the annual report (and its workbook
  // link), and the figures it publishes.
  await qc.goto(`${base}/staff/targets`);
  await qc.selectOption('#ts-indicator', 'reporting_rate');
  await qc.selectOption('#ts-scope', 'region');
  await qc.fill('#ts-value', '3');
  await Promise.all([qc.waitForURL(/saved=1/), qc.click('form[method="post"][action="/staff/targets"] button[type=submit]')]);
  check(!(await qc.content()).includes('built-in default (none set)'), 'the region\'s target replaces the built-in one');
  await audit(qc, 'targets');
  await shot(qc, 'qc-targets');
  await qc.goto(`${base}/staff/dashboard`);
  await Promise.all([qc.waitForLoadState('load'), qc.click('#presets a:nth-child(3)')]);
  check(/from=\d{4}-01&/.test(qc.url()), `year to date starts in January: ${qc.url()}`);
  check(await qc.locator('#by-level').count() === 1 && await qc.locator('#by-region').count() === 1, 'strata by level and region');
  await shot(qc, 'qc-dashboard-ytd');
  await qc.click('nav a[href="/staff/quality-reports"]');
  await qc.waitForURL(/\/staff\/quality-reports\/\d{4}$/);
  check((await qc.content()).includes('Annual quality and safety report'), 'the annual report');
  check(await qc.locator('#xlsx').count() === 1, 'the workbook link');
  await shot(qc, 'qc-annual-report');
  const lastYear = qc.url().slice(-4);
  const pub = await newPage({ viewport: { width: 1024, height: 768 } });
  await pub.goto(`${base}/api/v1/public/figures?year=${lastYear}`);
  check((await pub.content()).includes('医疗质量安全信息公开'), 'the published figures page, anonymous');
  await shot(pub, 'public-figures');

  check(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
  console.log(`browser flow passed; screenshots in ${shots}`);
} catch (e) {
  console.error(e.message);
  if (errors.length) console.error(errors.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
