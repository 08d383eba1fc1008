//! DESIGN.md "Anonymity rules", as far as reports go.

use crate::support::Lantern;
use serde_json::json;

#[tokio::test]
async fn nothing_identifying_is_stored_or_logged() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let ua = "Mozilla/5.0 (Linux; Android 14; Ward-Phone-7731) Identifying/9.9";
    let forwarded = "203.0.113.77";
    let phone = "13812345678";
    let id_number = "11010519491231002X";
    let email = "zhang.san@example.com";
    let body = json!({
        "hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
        "grade": "III", "category": "medication", "harm": "mild", "treatment_needed": false,
        "description": format!("患者身份证{id_number}，家属电话{phone}，联系邮箱{email}，病案号：A1234567 给药剂量错误 10ml"),
        "immediate_actions": format!("已电话通知 {phone}"),
        "location": "3床",
    });
    let r = l
        .request(reqwest::Method::POST, "/api/v1/reports", None)
        .header("User-Agent", ua)
        .header("X-Forwarded-For", forwarded)
        .header("Cookie", "session=reporter-cookie-123")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let filed: serde_json::Value = r.json().await.unwrap();
    let receipt = filed["receipt"].as_str().unwrap();
    let (s, _) = l.get(&format!("/api/v1/receipts/{receipt}"), None).await;
    assert_eq!(s, 200);

    let stream: Vec<String> = l
        .stream_payloads()
        .await
        .into_iter()
        .map(|p| String::from_utf8(p).unwrap())
        .collect();
    let report = stream.iter().find(|p| p.contains("report.filed")).unwrap();
    let log = l.log_text();
    for secret in [
        receipt,
        ua,
        "Ward-Phone",
        forwarded,
        "reporter-cookie",
        phone,
        id_number,
        email,
        "A1234567",
    ] {
        assert!(
            !stream.iter().any(|p| p.contains(secret)),
            "{secret:?} reached the stream"
        );
        assert!(!log.contains(secret), "{secret:?} was logged");
    }
    assert!(
        !log.contains("127.0.0.1:") || !log.contains("user-agent"),
        "no client address or UA in logs"
    );
    // The scrubbed text keeps what matters clinically, and the receipt only as its hash.
    assert!(report.contains("给药剂量错误 10ml"), "{report}");
    assert!(
        report.contains("[BED]床"),
        "bed numbers are replaced: {report}"
    );
    assert!(report.contains("病案号"), "labels stay, codes go: {report}");
    let hash = {
        use std::fmt::Write;
        let digest = sha256(receipt.as_bytes());
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    assert!(report.contains(&hash), "the receipt hash is stored");
}

/// A tiny SHA-256 so the test does not trust the code under test for it.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Every field a schema marks as free text is scrubbed on the command path,
/// whichever endpoint wrote it — critical-value fields and review roles
/// included — and control or bidirectional-override characters are refused
/// with the field's pointer (issue 24 item 5).
#[tokio::test]
async fn every_marked_free_text_field_is_scrubbed_and_bidi_overrides_are_refused() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let so = l.officer("H1").await;
    let before = l.stream_count().await;
    let (s, p) = l
        .post(
            "/api/v1/reports",
            None,
            &json!({"hospital": "H1", "department": "ICU",
                    "occurred_at": "2026-10-01T08:00:00+08:00", "grade": "IV",
                    "category": "diet", "harm": "not_applicable",
                    "description": "送错饮食\u{202e}txt.exe"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/description", "{p}");
    assert_eq!(l.stream_count().await, before, "a refused report appended");

    let (s, cv) = l
        .post(
            "/api/v1/critical-values",
            Some(&lis),
            &json!({"hospital": "H1", "department": "ICU", "source": "lab",
                    "item": "血钾 患者王小红 13812345678", "value": "6.9", "unit": "mmol/L",
                    "detected_at": "2026-10-01T08:00:00+08:00", "patient_setting": "inpatient"}),
        )
        .await;
    assert_eq!(s, 201, "{cv}");
    let id = cv["critical_value_id"].as_str().unwrap();
    let (s, n) = l
        .post(
            &format!("/api/v1/critical-values/{id}/notified"),
            Some(&lis),
            &json!({"notified_at": "2026-10-01T08:05:00+08:00",
                    "channel": "电话 139-1234-5678", "notified_role": "护士张丽"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let _ = so;
    let stream = l.stream_payloads().await;
    let text: Vec<String> = stream
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    for secret in ["13812345678", "139-1234-5678", "王小红", "张丽"] {
        assert!(
            !text.iter().any(|p| p.contains(secret)),
            "{secret} reached the stream"
        );
    }
}
