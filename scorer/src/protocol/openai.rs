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
        self.rewrite_for(body, upstream_model, false)
    }

    /// [`Layout::rewrite`], for a model that takes `max_completion_tokens` only
    /// (`completion_only`: OpenAI's reasoning models answer `max_tokens` with a 400): its
    /// `max_tokens` key is renamed, or the member dropped when `max_completion_tokens` is
    /// sent too (that one is what counts).
    pub fn rewrite_for(&self, body: &[u8], upstream_model: &str, completion_only: bool) -> Vec<u8> {
        let renamed = self.max_tokens_key.filter(|_| completion_only);
        // Both sent: `max_tokens` goes. Only it (a null `max_completion_tokens` beside it):
        // renamed, and the null one goes.
        let dropped = match renamed {
            Some(k) if self.max_completion_tokens => Some(k.start),
            Some(_) => self.null_completion_member,
            None => None,
        };
        let rename = renamed.filter(|_| !self.max_completion_tokens);
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
            if m.router_only || dropped == Some(m.span.start) {
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
            if let Some(key) = rename {
                edits.push((key, br#""max_completion_tokens""#));
            }
            edits.sort_by_key(|(span, _)| span.start);
            Self::copy(&mut out, body, m.span, &edits);
            wrote_any = true;
            prev = Some(m);
        }
        for extra in [self.append, self.effort_member].into_iter().flatten() {
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
