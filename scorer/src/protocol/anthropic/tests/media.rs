//! Images and documents in user content.

use serde_json::json;

use super::request::tr;

#[test]
fn a_pdf_file_becomes_a_document() {
    let body = json!({"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}}]}]});
    let v = tr(&body).unwrap_or_default();
    assert_eq!(
        v["messages"][0]["content"][0],
        json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}})
    );
}

/// Media types are case-insensitive and `image/jpg` is JPEG: both were refused, while Bedrock
/// took them.
#[test]
fn image_media_types_are_read_as_clients_write_them() {
    for (media, want) in
        [("image/jpg", "image/jpeg"), ("IMAGE/PNG", "image/png"), ("image/webp", "image/webp")]
    {
        let part = json!({"type": "image_url", "image_url": {"url": format!("data:{media};base64,AAAA")}});
        let v =
            tr(&json!({"messages": [{"role": "user", "content": [part]}]})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["messages"][0]["content"][0]["source"]["media_type"], want, "{media}");
    }
}

/// A data URL labelled PNG holding a JPEG went to Anthropic as PNG: its 400 ("Image does not
/// match the provided media type"), no other candidate tried. The bytes' own type is sent; bytes
/// of no type the API takes keep the label.
#[test]
fn an_images_type_is_what_its_bytes_say() {
    let jpeg = crate::parse::base64::encode(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01");
    for (label, data, want) in [
        ("image/png", jpeg.as_str(), "image/jpeg"),
        ("image/jpeg", "iVBORw0KGgoAAAANSUhEUg==", "image/png"),
        ("image/webp", "AAAA", "image/webp"),
        // A label the API takes none of, on bytes it does take.
        ("image/bmp", "iVBORw0KGgoAAAANSUhEUg==", "image/png"),
    ] {
        let part = json!({"type": "image_url", "image_url": {"url": format!("data:{label};base64,{data}")}});
        let v =
            tr(&json!({"messages": [{"role": "user", "content": [part]}]})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["messages"][0]["content"][0]["source"]["media_type"], want, "{label}");
    }
}

/// An image over Anthropic's 5 MB (of base64) went as it was: its 400, no other candidate
/// tried. Refused by the translation; 5 MB passes.
#[test]
fn an_image_past_five_megabytes_is_refused() {
    let image = |n: usize| {
        let part = json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", "A".repeat(n))}});
        tr(&json!({"messages": [{"role": "user", "content": [part]}]}))
    };
    assert!(image(5 * 1024 * 1024).is_ok());
    let e = image(5 * 1024 * 1024 + 4).err().map(|e| e.param);
    assert_eq!(e, Some(Some("messages[0].content[0].image_url.url".into())));
}
