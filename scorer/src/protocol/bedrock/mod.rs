//! AWS Bedrock Converse and ConverseStream: request, response and stream halves, and the event-stream framing.

pub mod eventstream;
