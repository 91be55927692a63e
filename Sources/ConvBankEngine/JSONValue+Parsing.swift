extension JSONValue {
    /// Parses `bytes` as one strict RFC 8259 document (nesting limited, so a hostile document cannot exhaust the
    /// stack), for readers outside the engine (the `.safetensors` header).
    /// - Returns: The value, or the syntax error in one line (`invalid JSON at line L, column C: …`).
    /// - Complexity: O(bytes.count).
    package static func parse(_ bytes: [UInt8]) -> Result<JSONValue, JSONSyntaxErrorText> {
        do { return .success(try JSONParser.parse(bytes)) } catch { return .failure(JSONSyntaxErrorText(description: error.description)) }
    }
}

/// A JSON syntax error as its one-line text.
package struct JSONSyntaxErrorText: Error, Sendable, CustomStringConvertible {
    /// `invalid JSON at line L, column C: reason`.
    package var description: String
}
