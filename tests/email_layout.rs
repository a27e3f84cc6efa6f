//! The email as a phone and a desktop lay it out: the real binary writes it to an outbox (a
//! what-if against the simulated tenant, in every shipped language), and headless Chromium
//! opens it at 390 and 640 px (320 and 750 px, the ends of the range, in English) and
//! measures it. Nothing may be wider than the screen, no label may touch its value, and the
//! account, the ticket link and the desk's address wrap only after a separator.
//!
//! Chromium comes from `TAP_RUNBOOK_CHROMIUM` or `PATH`; without it the test says so on one
//! line and passes, except under CI (`CI=true`), where `.ci/run` installs it. Each layout's
//! screenshot is kept in the test's target folder; `TAP_RUNBOOK_WRITE_SCREENSHOT=1` also
//! writes the README's phone-width one, `docs/email-390.png`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::common::root;
use crate::common::sim::{invocation, run, tenant};

/// Long enough that a phone must wrap it.
const UPN: &str = "maximilian.schoenberger-oyelaran@contoso-international.onmicrosoft.com";
const DESK_EMAIL: &str = "it-servicedesk.emea@contoso-international.com";
const TICKET_URL: &str =
    "https://servicedesk.contoso-international.com/tickets/new?category=temporary-access-pass";
const LANGUAGES: [&str; 6] = ["en", "de", "fr", "es", "it", "nl"];
/// Where a line may end inside an address or URL.
const SEPARATORS: &str = "@./-?&=#";
/// Labels stay at least this far from their values.
const MIN_GAP_PX: f64 = 8.0;
/// Tall enough for the whole email at the narrowest width.
const WINDOW_HEIGHT: u32 = 2600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_holds_from_a_phone_to_a_desktop_in_every_language() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium is required in CI (.ci/run installs it)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "email layout: skipped, no Chromium (set TAP_RUNBOOK_CHROMIUM or put chromium, chromium-browser or google-chrome on PATH)"
        );
        return;
    };
    let sim = tenant(|doc| {
        let mut user = doc["users"][0].clone();
        user["id"] = json!("5d1c9e7a-3f2b-4a6d-8e9c-0b1a2c3d4e5f");
        user["userPrincipalName"] = json!(UPN);
        user["mail"] = json!(UPN);
        user["displayName"] = json!("Maximilian Schönberger-Oyelaran");
        user["temporaryAccessPasses"] = json!([]);
        doc["users"].as_array_mut().unwrap().push(user);
    })
    .await;
    let outbox = tempfile::tempdir().unwrap();
    let jobs = LANGUAGES.map(|language| {
        let given = invocation(
            UPN,
            json!({
                "NotifyUser": true,
                "EmailFrom": "it-service@contoso.com",
                "LanguageOverride": language,
                "ServiceDeskDisplayName": "Contoso International IT Service Desk",
                "ServiceDeskEmail": DESK_EMAIL,
                "ServiceDeskPhone": "+49 30 1234-567",
                "ServiceDeskPortalUrl": "https://help.contoso-international.com",
                "ServiceDeskTicketUrl": TICKET_URL,
            }),
        );
        let dir = outbox.path().join(language);
        let sim = &sim;
        async move {
            let dir_arg = dir.to_str().unwrap().to_owned();
            let job = run(sim, given, &["--what-if", "--outbox", &dir_arg]).await;
            assert_eq!(job.code, 0, "{language}: {}", job.stdout);
            dir.join("1.html")
        }
    });
    let emails = futures_util::future::join_all(jobs).await;

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("email-layout");
    std::fs::create_dir_all(&shots).unwrap();
    let mut views: Vec<(&str, u32)> = LANGUAGES
        .iter()
        .flat_map(|l| [(*l, 390), (*l, 640)])
        .collect();
    views.extend([("en", 320), ("en", 750)]);
    let measured = std::thread::scope(|scope| {
        let runs: Vec<_> = views
            .iter()
            .map(|&(language, width)| {
                let email = &emails[LANGUAGES.iter().position(|l| *l == language).unwrap()];
                let (chromium, shots) = (&chromium, &shots);
                scope.spawn(move || {
                    let shot = shots.join(format!("{language}-{width}.png"));
                    let layout = measure(chromium, email, language, width, WINDOW_HEIGHT, &shot);
                    (language, width, layout, shot)
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap())
            .collect::<Vec<_>>()
    });

    let mut problems = Vec::new();
    for (language, width, layout, shot) in &measured {
        for problem in layout_problems(layout, *width) {
            problems.push(format!(
                "{language} at {width} px: {problem} (see {})",
                shot.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    if std::env::var_os("TAP_RUNBOOK_WRITE_SCREENSHOT").is_some() {
        let (_, _, layout, _) = measured
            .iter()
            .find(|(l, w, ..)| *l == "en" && *w == 390)
            .unwrap();
        let height = layout["height"].as_f64().unwrap().ceil() as u32;
        let readme_shot = root().join("docs/email-390.png");
        measure(&chromium, &emails[0], "en", 390, height, &readme_shot);
    }
}

/// Everything wrong with one measured layout, one sentence each.
fn layout_problems(layout: &Value, width: u32) -> Vec<String> {
    let mut problems = Vec::new();
    if layout["width"] != json!(width) {
        problems.push(format!("laid out {} px wide", layout["width"]));
    }
    if layout["scrollWidth"].as_f64().unwrap() > f64::from(width) {
        problems.push(format!("scrolls sideways to {} px", layout["scrollWidth"]));
    }
    for element in layout["overflowing"].as_array().unwrap() {
        problems.push(format!("wider than the screen: {element}"));
    }
    for (text, breaks) in layout["breaks"].as_object().unwrap() {
        let Some(breaks) = breaks.as_array() else {
            problems.push(format!("{text:?} is not shown"));
            continue;
        };
        for before in breaks {
            let before = before.as_str().unwrap_or_default();
            if !SEPARATORS.contains(before) || before.is_empty() {
                problems.push(format!("{text:?} wraps mid-word, after {before:?}"));
            }
        }
    }
    for row in layout["rows"].as_array().unwrap() {
        let label = &row["label"];
        if row["found"] != true {
            problems.push(format!("label {label} is not shown"));
        } else if let Some(gap) = row["gap"].as_f64()
            && gap < MIN_GAP_PX
        {
            problems.push(format!("label {label} is {gap:.1} px from its value"));
        }
    }
    problems
}

/// Opens `email` in an iframe `width` px wide (a headless window is never narrower than
/// 500 px, a frame is), measures it with [`MEASURE`] and saves a screenshot to `shot`.
fn measure(
    chromium: &Path,
    email: &Path,
    language: &str,
    width: u32,
    height: u32,
    shot: &Path,
) -> Value {
    let html = std::fs::read_to_string(email).unwrap();
    let catalog: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(format!("templates/messages/{language}.json")))
            .unwrap(),
    )
    .unwrap();
    let labels: Vec<&Value> = catalog["text"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| key.starts_with("label_"))
        .map(|(_, label)| label)
        .collect();
    let watch = [UPN, DESK_EMAIL, TICKET_URL];
    let harness = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">\
         <iframe id=\"email\" width=\"{width}\" height=\"{height}\" style=\"border:0; display:block\" srcdoc=\"{}\"></iframe>\
         <script>const LABELS = {}; const WATCH = {};\n{MEASURE}</script></body></html>",
        html.replace('&', "&amp;").replace('"', "&quot;"),
        json!(labels),
        json!(watch),
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("layout.html");
    std::fs::write(&page, harness).unwrap();
    let out = assert_cmd::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--mute-audio",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .timeout(Duration::from_secs(60))
        .output()
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let Some(encoded) = dom
        .split_once("data-layout=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(encoded, _)| encoded)
    else {
        panic!(
            "Chromium gave no measurement for {language} at {width} px:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    serde_json::from_str(&percent_decode_str(encoded).decode_utf8().unwrap()).unwrap()
}

/// Runs in the harness once the email's frame has loaded, and leaves its findings on the
/// harness's body as `data-layout` (URI-encoded JSON).
const MEASURE: &str = r#"
window.addEventListener('load', () => {
  const frame = document.getElementById('email');
  const doc = frame.contentDocument;
  const width = frame.clientWidth;
  const result = {
    width,
    scrollWidth: doc.documentElement.scrollWidth,
    height: doc.body.getBoundingClientRect().bottom,
    overflowing: [],
    breaks: {},
    rows: [],
  };
  for (const element of doc.body.querySelectorAll('*')) {
    const r = element.getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) {
      result.overflowing.push(`<${element.tagName.toLowerCase()}> ${element.textContent.trim().slice(0, 40)}`);
    }
  }
  const textRects = (element) => {
    const range = doc.createRange();
    range.selectNodeContents(element);
    return [...range.getClientRects()].filter((r) => r.width > 0);
  };
  // The character before each line break inside `element`.
  const lineEnds = (element) => {
    const chars = [];
    const walker = doc.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i++) {
        const range = doc.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) chars.push({ c: node.data[i], top: rect.top });
      }
    }
    const ends = [];
    for (let i = 1; i < chars.length; i++) {
      if (chars[i].top > chars[i - 1].top + 2) ends.push(chars[i - 1].c);
    }
    return ends;
  };
  const all = [...doc.body.querySelectorAll('div, a, td, p')];
  for (const text of WATCH) {
    // The innermost element showing exactly this text.
    const element = all.filter((e) => e.textContent.trim() === text).pop();
    result.breaks[text] = element ? lineEnds(element) : null;
  }
  for (const label of LABELS) {
    const element = all.filter((e) => e.tagName === 'DIV' && e.textContent.trim() === label).pop();
    if (!element) {
      result.rows.push({ label, found: false });
      continue;
    }
    // The smallest horizontal distance between label and value text on a shared line;
    // none when the value sits below its label.
    let gap = null;
    for (const a of textRects(element)) {
      for (const b of textRects(element.nextElementSibling)) {
        if (a.top < b.bottom && b.top < a.bottom) {
          const distance = b.left - a.right;
          gap = gap === null ? distance : Math.min(gap, distance);
        }
      }
    }
    result.rows.push({ label, found: true, gap });
  }
  document.body.setAttribute('data-layout', encodeURIComponent(JSON.stringify(result)));
});
"#;

/// `TAP_RUNBOOK_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TAP_RUNBOOK_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}
