//! OpenAI-compatible providers: the client's body goes upstream spliced, never re-serialised.
//! Only the `model` value changes and the router's own members (`prefer`, `tier`, ...) leave;
//! every other byte is the client's. The parser records where those bytes are
//! ([`Layout`]); this is the request half that uses it.

use crate::parse::chat::ChatRequest;
use crate::parse::json::write_string;
use crate::parse::layout::{Layout, Member, STREAM_USAGE_MEMBER, Span};

impl Layout {
    /// Copies member bytes `span`, applying the edits that fall inside it (in order).
    fn copy(out: &mut Vec<u8>, body: &[u8], span: Span, edits: &[(Span, &[u8])]) {
        let mut at = span.start;
        for (e, bytes) in edits {
            if at <= e.start && e.end <= span.end {
                out.extend_from_slice(body.get(at..e.start).unwrap_or_default());
                out.extend_from_slice(bytes);
                at = e.end;
            }
        }
        out.extend_from_slice(body.get(at..span.end).unwrap_or_default());
    }

    /// The body to send upstream: `model` replaced by `upstream_model`, router-only members
    /// removed with their separator, every other byte as received.
    pub fn rewrite(&self, body: &[u8], upstream_model: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + upstream_model.len() + STREAM_USAGE_MEMBER.len());
        let mut model = Vec::with_capacity(upstream_model.len() + 2);
        write_string(&mut model, upstream_model);
        let (Some(first), Some(last)) = (self.members.first(), self.members.last()) else {
            return body.to_vec();
        };
        out.extend_from_slice(body.get(..first.span.start).unwrap_or_default());
        let mut prev: Option<&Member> = None;
        let mut wrote_any = false;
        for m in &self.members {
            if m.router_only {
                prev = Some(m);
                continue;
            }
            if wrote_any {
                match prev {
                    // Keep the original separator and whitespace when the previous member stays.
                    Some(p) if !p.router_only => {
                        out.extend_from_slice(body.get(p.span.end..m.span.start).unwrap_or(b","))
                    }
                    _ => out.push(b','),
                }
            }
            let mut edits: Vec<(Span, &[u8])> = Vec::with_capacity(2);
            edits.push((self.model_value, &model));
            if let Some((span, bytes)) = self.edit {
                edits.push((span, bytes));
            }
            edits.sort_by_key(|(span, _)| span.start);
            Self::copy(&mut out, body, m.span, &edits);
            wrote_any = true;
            prev = Some(m);
        }
        if let Some(extra) = self.append {
            out.push(b',');
            out.extend_from_slice(extra);
        }
        out.extend_from_slice(body.get(last.span.end..).unwrap_or_default());
        out
    }
}

impl ChatRequest<'_> {
    /// The body to send upstream (see [`Layout::rewrite`]).
    pub fn rewrite(&self, body: &[u8], upstream_model: &str) -> Vec<u8> {
        self.layout.rewrite(body, upstream_model)
    }
}
