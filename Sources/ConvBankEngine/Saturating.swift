/// A non-negative size that sticks at `Int.max` instead of overflowing: memory estimates of hostile banks and
/// images must come out as "too much", never trap.
package struct Saturating {
    package let value: Int
    package init(_ value: Int) { self.value = max(value, 0) }

    package static func + (a: Saturating, b: Saturating) -> Saturating {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Saturating(overflow ? Int.max : sum)
    }
    package static func + (a: Saturating, b: Int) -> Saturating { a + Saturating(b) }
    package static func * (a: Saturating, b: Saturating) -> Saturating {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: b.value)
        return Saturating(overflow ? Int.max : product)
    }
    package static func * (a: Saturating, b: Int) -> Saturating { a * Saturating(b) }
}
