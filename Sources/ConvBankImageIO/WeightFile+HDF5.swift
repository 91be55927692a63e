import Foundation

extension WeightFile {
    /// The arrays of a Keras HDF5 weight file, named so that `inferLayout` and `biasName` apply:
    /// - Keras 3 `save_weights("x.weights.h5")` (and a `.keras` archive's `model.weights.h5`): `layers/<group>/vars/<i>`,
    ///   the layer's own name in the `vars` group's `name` attribute (else the group's). Variable 0 of 4 dimensions
    ///   becomes `<layer>/kernel`, or `<layer>/depthwise_kernel` when the group is a `DepthwiseConv2D`'s (Keras names
    ///   the group after the layer's class: `depthwise_conv2d`, `depthwise_conv2d_1`, …); a 1-D variable 1 after it
    ///   `<layer>/bias`; any other variable `<layer>/vars/<i>`.
    /// - Keras 2 `save_weights("x.h5")` and the `model_weights` group of a full-model `.h5`: the root (or group)
    ///   attribute `layer_names`, each layer group's `weight_names` (`conv2d/kernel:0`, …), arrays named by those.
    /// - Any other HDF5 file: every numeric dataset, named by its path.
    /// Each array's values are counted against `maximumArrayBytes` (at the file's own element size) before it is read.
    static func readHDF5(_ file: HDF5File, fail: (String) -> FormatError) throws(FormatError) -> [Entry] {
        var budget = maximumArrayBytes
        func read(_ path: String, as name: String) throws(FormatError) -> Entry {
            guard let d = file.dataset(path) else { throw fail("no dataset '\(path)'") }
            let elements = d.shape.reduce(1) { a, n in a.multipliedReportingOverflow(by: n).overflow ? Int.max : a * n }
            let size = max(d.typeSize, 1)
            guard elements <= budget / size else {
                throw fail("dataset '\(path)' of shape \(d.shape) is more than the \(maximumArrayBytes >> 20) MiB of arrays a weight file may hold")
            }
            budget -= elements * size
            do { return Entry(name: name, array: try file.read(path, limit: elements)) } catch { throw fail(error.reason) }
        }
        let layerNames: [String]?, root: String
        do {
            if let names = try file.strings("layer_names") {
                (layerNames, root) = (names, "")
            } else if file.datasets.contains(where: { $0.path.hasPrefix("model_weights/") }), let names = try file.strings("layer_names", of: "model_weights") {
                (layerNames, root) = (names, "model_weights/")
            } else {
                (layerNames, root) = (nil, "")
            }
        } catch { throw fail(error.reason) }

        var entries: [Entry] = []
        if let layerNames {
            // Keras 2 layout: weights listed per layer, in the layers' order.
            for layer in layerNames {
                let weightNames: [String]
                do { weightNames = try file.strings("weight_names", of: root + layer) ?? [] } catch {
                    throw fail("layer '\(layer)': \(error.reason)")
                }
                for w in weightNames { entries.append(try read(root + layer + "/" + w, as: w)) }
            }
            return entries
        }
        let variables = file.datasets.compactMap { d -> (owner: String, index: Int, dataset: HDF5File.Dataset)? in
            guard let range = d.path.range(of: "/vars/", options: .backwards), let i = Int(d.path[range.upperBound...]) else { return nil }
            return (String(d.path[..<range.lowerBound]), i, d)
        }
        if !variables.isEmpty {
            // Keras 3 layout: `<owner>/vars/<i>`; owners in file order, variables by index.
            var owners: [String] = []
            for v in variables where !owners.contains(v.owner) { owners.append(v.owner) }
            for owner in owners {
                let layer: String
                do { layer = try file.string("name", of: owner + "/vars") ?? String(owner.split(separator: "/").last ?? Substring(owner)) } catch {
                    throw fail(error.reason)
                }
                let group = owner.split(separator: "/").last.map(String.init) ?? owner
                let vars = variables.filter { $0.owner == owner }.sorted { $0.index < $1.index }
                for v in vars {
                    var name = "\(layer)/vars/\(v.index)"
                    if v.index == 0, v.dataset.shape.count == 4 {
                        name = layer + (group.hasPrefix("depthwise_conv") ? "/depthwise_kernel" : "/kernel")
                    } else if v.index == 1, v.dataset.shape.count == 1, vars.first?.index == 0, vars.first?.dataset.shape.count == 4 {
                        name = layer + "/bias"
                    }
                    if v.dataset.type != .integer, v.dataset.type != .float {
                        throw fail("dataset '\(v.dataset.path)' holds \(v.dataset.type == .string ? "strings" : "values of an unsupported type"), not numbers")
                    }
                    entries.append(try read(v.dataset.path, as: name))
                }
            }
            return entries
        }
        for d in file.datasets where d.type == .integer || d.type == .float {
            entries.append(try read(d.path, as: d.path))
        }
        guard !entries.isEmpty else { throw fail("an HDF5 file with no numeric datasets (not Keras weights)") }
        return entries
    }
}
