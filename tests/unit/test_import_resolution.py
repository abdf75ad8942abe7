"""Import resolution for Rust, Java, C and C++ on realistic layouts, and the context it feeds.

Each fixture is a small repository written into tmp_path. For every import its files contain,
the test states the exact files `RepoIndex.resolve_import` must return; the retrieval tests
show that a definition from the imported file reaches the context of a cursor that uses it,
while same-named definitions elsewhere (decoys, too many to guess from by name) do not.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lsp_server.context.index import RepoIndex
from lsp_server.context.repo_context import RepoContext
from lsp_server.context.symbols import Import


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def _label(imp: Import) -> str:
    """Return an import as a short readable key: `module {name, name as alias} * as alias`."""
    text = imp.module
    if imp.names:
        text += " {" + ", ".join(n if n == a else f"{n} as {a}" for n, a in imp.names) + "}"
    if imp.wildcard:
        text += " *"
    if imp.alias:
        text += f" as {imp.alias}"
    return text


def _resolutions(idx: RepoIndex, root: Path, rel: str) -> dict[str, list[str]]:
    """Return every import of a file, resolved, as {label: [root-relative paths]}."""
    path = str(root / rel)
    entry = idx.entry(path)
    assert entry is not None, rel
    out: dict[str, list[str]] = {}
    for imp in entry.symbols.imports:
        found = idx.resolve_import(path, imp, entry.symbols.language)
        out[_label(imp)] = [idx.relpath(p) for p in found]
    return out


def _index(root: Path) -> RepoIndex:
    idx = RepoIndex([str(root)], persist=False)
    idx.build()
    return idx


def _context_after(root: Path, rel: str, marker: str, tmp_path: Path) -> dict[str, str]:
    """Return the completion context (path -> block) with the cursor right after the first
    `marker` in `rel`, from an engine indexing `root`."""
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    try:
        engine.build_sync()
        path = root / rel
        text = path.read_text()
        offset = text.index(marker) + len(marker)
        return {cf.path: cf.text for cf in engine.context_files(str(path), text, offset, 8000)}
    finally:
        engine.close()


# --- Rust: a Cargo workspace -------------------------------------------------------------------

RUST = {
    "Cargo.toml": """
        [workspace]
        members = ["crates/geo-core", "crates/app", "crates/legacy-math"]
        resolver = "2"
    """,
    "crates/geo-core/Cargo.toml": """
        [package]
        name = "geo-core"
        version = "0.1.0"
        edition = "2021"
    """,
    "crates/geo-core/src/lib.rs": """
        //! Geometry primitives.
        pub mod shapes;
        pub mod units;
        mod util {
            pub mod fmt;
        }

        pub use shapes::circle::Circle;
        pub use crate::units::Meters;
    """,
    "crates/geo-core/src/shapes/mod.rs": """
        pub mod circle;
        pub mod polygon;

        use super::util::fmt::pretty;
        use crate::units::{self, Meters};

        pub trait Shape {
            fn area(&self) -> f64;
        }
    """,
    "crates/geo-core/src/shapes/circle.rs": """
        use super::polygon::{self, Polygon};
        use super::Shape;
        use crate::{units::{Meters, Radians as Rad}, util::fmt};
        use std::f64::consts::PI;

        /// A circle.
        pub struct Circle {
            pub r: Meters,
        }

        /// Area of a circle.
        pub fn area(c: &Circle) -> f64 {
            PI * c.r.0 * c.r.0
        }

        #[cfg(test)]
        mod tests {
            use super::*;
            use super::super::polygon::Polygon;
        }
    """,
    "crates/geo-core/src/shapes/polygon.rs": """
        use super::circle::Circle;

        pub struct Polygon {
            pub points: Vec<(f64, f64)>,
        }

        pub fn area(p: &Polygon) -> f64 {
            p.points.len() as f64
        }
    """,
    "crates/geo-core/src/units.rs": """
        pub mod convert;

        pub struct Meters(pub f64);
        pub struct Radians(pub f64);
    """,
    "crates/geo-core/src/units/convert.rs": """
        use super::Meters;
        use super::super::shapes;
        use crate::shapes::polygon::area as polygon_area;

        pub fn feet(m: Meters) -> f64 {
            m.0 * 3.28
        }
    """,
    "crates/geo-core/src/util/fmt.rs": """
        pub fn pretty(x: f64) -> String {
            format!("{x:.2}")
        }
    """,
    "crates/legacy-math/Cargo.toml": """
        [package]
        name = "legacy-math"
        version = "0.3.0"

        [lib]
        name = "lmath"
        path = "lib.rs"
    """,
    "crates/legacy-math/lib.rs": """
        pub mod trig;

        pub fn sqrt(x: f64) -> f64 {
            x
        }

        pub fn area(w: f64, h: f64) -> f64 {
            w * h
        }
    """,
    "crates/legacy-math/trig.rs": """
        pub fn sin(x: f64) -> f64 {
            x
        }
    """,
    "crates/app/Cargo.toml": """
        [package]
        name = "geo-app"
        version = "0.1.0"

        [dependencies]
        geo-core = { path = "../geo-core" }
        m = { package = "legacy-math", path = "../legacy-math" }
        serde = "1"
    """,
    "crates/app/src/main.rs": """
        mod cli;
        #[path = "platform/linux.rs"]
        mod platform;

        use geo_core::shapes::circle::{area, Circle};
        use geo_core::Circle as Round;
        use geo_core::units;
        use cli::Args;
        use m::trig::sin;
        use ::m::sqrt;
        use std::collections::HashMap;
        use serde::Deserialize;

        fn main() {
            let args = Args::parse();
            let c = Circle { r: units::Meters(2.0) };
            let a = area(&c);
            println!("{a} {}", sin(sqrt(2.0)));
        }
    """,
    "crates/app/src/cli.rs": """
        use geo_core::units::convert::feet;

        pub struct Args {
            pub verbose: bool,
        }
    """,
    "crates/app/src/platform/linux.rs": """
        pub fn open_url(url: &str) {}
    """,
    "crates/app/src/bin/tool/main.rs": """
        mod helpers;
        extern crate lmath as lm;

        use crate::helpers::run;

        const VERSION: &str = "1";

        fn main() {
            run();
        }
    """,
    "crates/app/src/bin/tool/helpers.rs": """
        use super::VERSION;

        pub fn run() {}
    """,
    "crates/app/tests/integration.rs": """
        mod common;

        use geo_core::units::Meters;
        use common::setup;
    """,
    "crates/app/tests/common/mod.rs": """
        use geo_core::shapes::polygon::Polygon;

        pub fn setup() {}
    """,
    # Not in any Cargo package: the crate root is the nearest main.rs / lib.rs.
    "tools/standalone/main.rs": """
        mod util;

        use crate::util::area;
    """,
    "tools/standalone/util.rs": """
        pub fn area(side: f64) -> f64 {
            side * side
        }
    """,
}

GEO = "crates/geo-core/src"
APP = "crates/app"
RUST_EXPECTED: dict[str, dict[str, list[str]]] = {
    f"{GEO}/lib.rs": {
        "self::shapes as shapes": [f"{GEO}/shapes/mod.rs"],
        "self::units as units": [f"{GEO}/units.rs"],
        # `mod fmt;` inside the inline `mod util { }`: util/fmt.rs.
        "self::util::fmt as fmt": [f"{GEO}/util/fmt.rs"],
        "shapes::circle {Circle}": [f"{GEO}/shapes/circle.rs"],
        "crate::units {Meters}": [f"{GEO}/units.rs"],
    },
    f"{GEO}/shapes/mod.rs": {
        "self::circle as circle": [f"{GEO}/shapes/circle.rs"],
        "self::polygon as polygon": [f"{GEO}/shapes/polygon.rs"],
        # super of a mod.rs is the crate root; util is inline there, fmt a file.
        "super::util::fmt {pretty}": [f"{GEO}/util/fmt.rs"],
        "crate::units {Meters} as units": [f"{GEO}/units.rs"],
    },
    f"{GEO}/shapes/circle.rs": {
        "super::polygon {Polygon} as polygon": [f"{GEO}/shapes/polygon.rs"],
        "super {Shape}": [f"{GEO}/shapes/mod.rs"],
        "crate::units {Meters, Radians as Rad}": [f"{GEO}/units.rs"],
        "crate::util {fmt}": [f"{GEO}/util/fmt.rs"],
        "std::f64::consts {PI}": [],
        # Inside `mod tests { }`: super is this file, super::super its parent module.
        "self *": [],
        "super::polygon {Polygon}": [f"{GEO}/shapes/polygon.rs"],
    },
    f"{GEO}/shapes/polygon.rs": {
        "super::circle {Circle}": [f"{GEO}/shapes/circle.rs"],
    },
    f"{GEO}/units.rs": {
        # units.rs is not a mod.rs: its children live in units/.
        "self::convert as convert": [f"{GEO}/units/convert.rs"],
    },
    f"{GEO}/units/convert.rs": {
        "super {Meters}": [f"{GEO}/units.rs"],
        "super::super {shapes}": [f"{GEO}/shapes/mod.rs"],
        "crate::shapes::polygon {area as polygon_area}": [f"{GEO}/shapes/polygon.rs"],
    },
    f"{GEO}/util/fmt.rs": {},
    "crates/legacy-math/lib.rs": {
        # [lib] path = "lib.rs": the crate root is the package dir itself.
        "self::trig as trig": ["crates/legacy-math/trig.rs"],
    },
    "crates/legacy-math/trig.rs": {},
    f"{APP}/src/main.rs": {
        "self::cli as cli": [f"{APP}/src/cli.rs"],
        "platform/linux.rs as platform": [f"{APP}/src/platform/linux.rs"],
        # Another workspace crate, by its package name with `-` written `_`.
        "geo_core::shapes::circle {area, Circle}": [f"{GEO}/shapes/circle.rs"],
        "geo_core {Circle as Round}": [f"{GEO}/lib.rs"],  # a re-export of the crate root
        "geo_core {units}": [f"{GEO}/units.rs"],  # a module: its own file
        "cli {Args}": [f"{APP}/src/cli.rs"],  # a module declared here (2018 uniform paths)
        # A renamed path dependency, and a crate whose [lib] has its own name and path.
        "m::trig {sin}": ["crates/legacy-math/trig.rs"],
        "::m {sqrt}": ["crates/legacy-math/lib.rs"],
        "std::collections {HashMap}": [],
        "serde {Deserialize}": [],
    },
    f"{APP}/src/cli.rs": {
        "geo_core::units::convert {feet}": [f"{GEO}/units/convert.rs"],
    },
    f"{APP}/src/platform/linux.rs": {},
    f"{APP}/src/bin/tool/main.rs": {
        "self::helpers as helpers": [f"{APP}/src/bin/tool/helpers.rs"],
        "::lmath as lm": ["crates/legacy-math/lib.rs"],
        "crate::helpers {run}": [f"{APP}/src/bin/tool/helpers.rs"],
    },
    f"{APP}/src/bin/tool/helpers.rs": {
        "super {VERSION}": [f"{APP}/src/bin/tool/main.rs"],
    },
    f"{APP}/tests/integration.rs": {
        "self::common as common": [f"{APP}/tests/common/mod.rs"],
        "geo_core::units {Meters}": [f"{GEO}/units.rs"],
        "common {setup}": [f"{APP}/tests/common/mod.rs"],
    },
    f"{APP}/tests/common/mod.rs": {
        "geo_core::shapes::polygon {Polygon}": [f"{GEO}/shapes/polygon.rs"],
    },
    "tools/standalone/main.rs": {
        "self::util as util": ["tools/standalone/util.rs"],
        "crate::util {area}": ["tools/standalone/util.rs"],
    },
    "tools/standalone/util.rs": {},
}


@pytest.fixture
def rust_repo(tmp_path: Path) -> Path:
    return _write(tmp_path / "rust", RUST)


def test_rust_submodule_and_new_files(rust_repo: Path) -> None:
    idx = _index(rust_repo)
    main = str(rust_repo / APP / "src/main.rs")
    # `use geo_core::units;` names a module; `use ...::circle::area;` an item.
    assert idx.resolve_submodule(main, "geo_core", "units", "rust") == str(
        rust_repo / GEO / "units.rs")
    assert idx.resolve_submodule(main, "geo_core::shapes::circle", "area", "rust") is None
    # A module moved from foo.rs to foo/mod.rs resolves again once the index knows.
    cli = rust_repo / APP / "src/cli.rs"
    imp = Import("self::cli", (), "cli")
    assert idx.resolve_import(main, imp, "rust") == [str(cli)]
    moved = rust_repo / APP / "src/cli/mod.rs"
    moved.parent.mkdir()
    cli.rename(moved)
    idx.remove_file(str(cli))
    idx.refresh_file(str(moved))
    assert idx.resolve_import(main, imp, "rust") == [str(moved)]


def test_rust_use_trees_are_extracted_per_module(rust_repo: Path) -> None:
    idx = _index(rust_repo)
    entry = idx.entry(str(rust_repo / GEO / "shapes/circle.rs"))
    assert entry is not None
    grouped = [i for i in entry.symbols.imports if i.module in ("crate::units", "crate::util")]
    assert [(i.module, i.names) for i in grouped] == [
        ("crate::units", (("Meters", "Meters"), ("Radians", "Rad"))),
        ("crate::util", (("fmt", "fmt"),)),
    ]


def test_rust_imported_function_reaches_the_context(rust_repo: Path, tmp_path: Path) -> None:
    blocks = _context_after(rust_repo, f"{APP}/src/main.rs", "let a = area(", tmp_path)
    circle = blocks[f"{GEO}/shapes/circle.rs"]
    assert "pub fn area(c: &Circle) -> f64" in circle
    assert "pub struct Circle" in circle
    # Four other functions are called area: only the imported one is meant.
    everything = "\n".join(blocks.values())
    for decoy in ("fn area(p: &Polygon)", "fn area(w: f64, h: f64)", "fn area(side: f64)"):
        assert decoy not in everything


# --- Java: a Maven multi-module tree ---------------------------------------------------------

CORE_MAIN = "core/src/main/java/com/acme"
CORE_TEST = "core/src/test/java/com/acme"
LEGACY = "legacy/src/main/java/com/acme"

JAVA = {
    "pom.xml": "<project><modules><module>core</module><module>legacy</module></modules>"
               "</project>\n",
    f"{CORE_MAIN}/util/Strings.java": """
        package com.acme.util;

        /** String helpers. */
        public final class Strings {
            private Strings() {}

            /** Upper-cases the first letter. */
            public static String capitalize(String s) {
                return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
            }

            /** Joins parts with a separator. */
            public static final class Joiner {
                public Joiner(String separator) {}
            }
        }
    """,
    f"{CORE_MAIN}/util/Lists.java": """
        package com.acme.util;

        import java.util.List;

        public final class Lists {
            public static <T> T first(List<T> items) {
                return items.get(0);
            }
        }
    """,
    f"{CORE_MAIN}/model/Order.java": """
        package com.acme.model;

        import com.acme.util.Strings;
        import com.acme.util.Strings.Joiner;
        import static com.acme.util.Strings.capitalize;
        import static com.acme.util.Lists.*;
        import com.acme.util.*;
        import java.util.List;
        import java.util.Map.Entry;

        public class Order {
            private final String name;

            public Order(String name) {
                this.name = name;
            }

            public String title() {
                return Strings.capitalize(name);
            }
        }
    """,
    f"{CORE_TEST}/util/StringsTest.java": """
        package com.acme.util;

        import org.junit.jupiter.api.Test;
        import static org.junit.jupiter.api.Assertions.assertEquals;

        class StringsTest {
            @Test
            void capitalizes() {
                assertEquals("A", Strings.capitalize("a"));
            }
        }
    """,
    f"{CORE_TEST}/model/OrderTest.java": """
        package com.acme.model;

        import com.acme.model.Order;
        import com.acme.proto.OrderProto;

        class OrderTest {}
    """,
    # The same class name in another module: each module sees its own.
    f"{LEGACY}/util/Strings.java": """
        package com.acme.util;

        public final class Strings {
            public static String capitalize(String s, java.util.Locale locale) {
                return s;
            }
        }
    """,
    f"{LEGACY}/legacy/LegacyOrder.java": """
        package com.acme.legacy;

        import com.acme.util.Strings;
        import com.acme.model.Order;

        public class LegacyOrder extends Order {}
    """,
    # Generated code outside any src/*/java root: found by its package declaration.
    "core/proto-gen/OrderProto.java": """
        package com.acme.proto;

        public final class OrderProto {}
    """,
    # A source root literally named java holding package `util`: not java.util.List.
    "tools/src/main/java/util/List.java": """
        package util;

        public class List {}
    """,
}

JAVA_EXPECTED: dict[str, dict[str, list[str]]] = {
    f"{CORE_MAIN}/model/Order.java": {
        "com.acme.util {Strings}": [f"{CORE_MAIN}/util/Strings.java"],
        "com.acme.util.Strings {Joiner}": [f"{CORE_MAIN}/util/Strings.java"],  # nested class
        "com.acme.util.Strings {capitalize}": [f"{CORE_MAIN}/util/Strings.java"],  # static
        "com.acme.util.Lists *": [f"{CORE_MAIN}/util/Lists.java"],  # static wildcard: a class
        # A package wildcard: the package's files in every source root, nearest first, and
        # each class once (legacy/ has its own Strings: on a classpath only one can win).
        "com.acme.util *": [f"{CORE_MAIN}/util/Lists.java", f"{CORE_MAIN}/util/Strings.java",
                            f"{CORE_TEST}/util/StringsTest.java"],
        "java.util {List}": [],
        "java.util.Map {Entry}": [],
    },
    f"{CORE_MAIN}/util/Lists.java": {"java.util {List}": []},
    f"{CORE_MAIN}/util/Strings.java": {},
    f"{CORE_TEST}/util/StringsTest.java": {
        "org.junit.jupiter.api {Test}": [],
        "org.junit.jupiter.api.Assertions {assertEquals}": [],
    },
    f"{CORE_TEST}/model/OrderTest.java": {
        "com.acme.model {Order}": [f"{CORE_MAIN}/model/Order.java"],  # main from test root
        "com.acme.proto {OrderProto}": ["core/proto-gen/OrderProto.java"],
    },
    f"{LEGACY}/util/Strings.java": {},
    f"{LEGACY}/legacy/LegacyOrder.java": {
        "com.acme.util {Strings}": [f"{LEGACY}/util/Strings.java"],
        "com.acme.model {Order}": [f"{CORE_MAIN}/model/Order.java"],
    },
    "core/proto-gen/OrderProto.java": {},
    "tools/src/main/java/util/List.java": {},
}


@pytest.fixture
def java_repo(tmp_path: Path) -> Path:
    return _write(tmp_path / "java", JAVA)


def test_java_package_follows_the_declaration(java_repo: Path) -> None:
    idx = _index(java_repo)
    order = str(java_repo / CORE_MAIN / "model/Order.java")
    imp = Import("com.acme.util", (("Lists", "Lists"),))
    lists = java_repo / CORE_MAIN / "util/Lists.java"
    assert idx.resolve_import(order, imp, "java") == [str(lists)]
    # An open buffer of a new file takes part as soon as it declares its package.
    new = java_repo / "core/src/main/java/com/acme/util/Maps.java"
    idx.set_overlay(str(new), "package com.acme.util;\npublic final class Maps {}\n", "java")
    assert idx.resolve_import(order, Import("com.acme.util", (("Maps", "Maps"),)), "java") == [
        str(new)]


def test_java_imported_method_reaches_the_context(java_repo: Path, tmp_path: Path) -> None:
    # Seven more `Strings.capitalize` elsewhere: the name alone cannot tell which one is meant.
    for i in range(5):
        _write(java_repo, {f"libs/lib{i}/src/main/java/org/lib{i}/Strings.java": f"""
            package org.lib{i};

            public final class Strings {{
                public static String capitalize(CharSequence text, int flags{i}) {{
                    return "";
                }}
            }}
        """})
    blocks = _context_after(java_repo, f"{CORE_MAIN}/model/Order.java", "Strings.capitalize(",
                            tmp_path)
    strings = blocks[f"{CORE_MAIN}/util/Strings.java"]
    assert "public static String capitalize(String s)" in strings
    everything = "\n".join(blocks.values())
    assert "java.util.Locale locale" not in everything
    assert "int flags" not in everything


# --- C and C++ ---------------------------------------------------------------------------------

NATIVE = {
    "c/include/proj/geometry.h": """
        #ifndef PROJ_GEOMETRY_H
        #define PROJ_GEOMETRY_H
        #include "proj/types.h"
        #include <stddef.h>

        /* Area of a circle of radius r. */
        double circle_area(double r);
        point_t midpoint(point_t a, point_t b);
        #endif
    """,
    "c/include/proj/types.h": """
        #pragma once
        typedef struct {
            double x, y;
        } point_t;
    """,
    "c/src/geometry.c": """
        #include "proj/geometry.h"
        #include <math.h>
        #include "internal.h"

        double circle_area(double r) {
            return 3.14159 * r * r;
        }
    """,
    "c/src/internal.h": """
        static inline int clamp(int x) { return x < 0 ? 0 : x; }
    """,
    "c/src/main.c": """
        #include <stdio.h>
        #include <string.h>
        #include <proj/geometry.h>
        #include "internal.h"
        #include "missing.h"

        int main(void) {
            point_t a = {0, 0}, b = {1, 1};
            point_t m = midpoint(a, b);
            double x = circle_area(2.0);
            printf("%f %f\\n", x, m.x);
            return 0;
        }
    """,
    # A repository file that shares its name with a standard header.
    "c/compat/string.h": """
        char *compat_strdup(const char *s);
    """,
    "c/tests/internal.h": """
        void test_setup(void);
    """,
    "c/tests/test_geometry.c": """
        #include "internal.h"
        #include "proj/geometry.h"
        #include "../include/proj/types.h"
    """,
    # A vendored copy of the same header: each side gets its own.
    "c/third_party/minigeo/include/proj/geometry.h": """
        double circle_area(float radius);
    """,
    "c/third_party/minigeo/src/minigeo.c": """
        #include "proj/geometry.h"
    """,
    "cpp/include/shapes/shape.hpp": """
        #pragma once
        namespace shapes {
        class Shape {
         public:
          virtual ~Shape() = default;
          virtual double area() const = 0;
        };
        }  // namespace shapes
    """,
    "cpp/include/shapes/circle.hpp": """
        #pragma once
        #include "shape.hpp"
        #include <memory>

        namespace shapes {
        class Circle : public Shape {
         public:
          explicit Circle(double r);
          double area() const override;

         private:
          double r_;
        };

        std::unique_ptr<Shape> make_circle(double r);
        }  // namespace shapes
    """,
    "cpp/src/circle.cc": """
        #include "shapes/circle.hpp"
        #include <cmath>

        namespace shapes {
        Circle::Circle(double r) : r_(r) {}
        double Circle::area() const { return 3.14159 * r_ * r_; }
        std::unique_ptr<Shape> make_circle(double r) { return std::make_unique<Circle>(r); }
        }  // namespace shapes
    """,
    "cpp/src/main.cpp": """
        #include <vector>
        #include <iostream>
        #include "shapes/circle.hpp"
        #include "shapes/circle.h"

        using namespace shapes;

        int main() {
          auto c = make_circle(2.0);
          std::cout << c->area() << std::endl;
        }
    """,
}

NATIVE_EXPECTED: dict[str, dict[str, list[str]]] = {
    "c/include/proj/geometry.h": {
        "proj/types.h *": ["c/include/proj/types.h"],  # through the include dir, not ./proj/
        "<stddef.h> *": [],
    },
    "c/include/proj/types.h": {},
    "c/src/geometry.c": {
        # -Iinclude: the nearest file ending with the path (not the vendored copy).
        "proj/geometry.h *": ["c/include/proj/geometry.h"],
        "<math.h> *": [],
        "internal.h *": ["c/src/internal.h"],  # the including file's directory first
    },
    "c/src/internal.h": {},
    "c/src/main.c": {
        "<stdio.h> *": [],
        "<string.h> *": [],  # a standard header, though the repo has a string.h
        "<proj/geometry.h> *": ["c/include/proj/geometry.h"],
        "internal.h *": ["c/src/internal.h"],
        "missing.h *": [],
    },
    "c/compat/string.h": {},
    "c/tests/internal.h": {},
    "c/tests/test_geometry.c": {
        "internal.h *": ["c/tests/internal.h"],
        "proj/geometry.h *": ["c/include/proj/geometry.h"],
        "../include/proj/types.h *": ["c/include/proj/types.h"],
    },
    "c/third_party/minigeo/include/proj/geometry.h": {},
    "c/third_party/minigeo/src/minigeo.c": {
        "proj/geometry.h *": ["c/third_party/minigeo/include/proj/geometry.h"],
    },
    "cpp/include/shapes/shape.hpp": {},
    "cpp/include/shapes/circle.hpp": {
        "shape.hpp *": ["cpp/include/shapes/shape.hpp"],
        "<memory> *": [],
    },
    "cpp/src/circle.cc": {
        "shapes/circle.hpp *": ["cpp/include/shapes/circle.hpp"],  # the header, not circle.cc
        "<cmath> *": [],
    },
    "cpp/src/main.cpp": {
        "<vector> *": [],
        "<iostream> *": [],
        "shapes/circle.hpp *": ["cpp/include/shapes/circle.hpp"],
        "shapes/circle.h *": [],  # no such header, whatever else is called circle
    },
}


@pytest.fixture
def native_repo(tmp_path: Path) -> Path:
    return _write(tmp_path / "native", NATIVE)


# Each layout, the files whose imports it lists (all of them), and what each import reaches.
LAYOUTS = {
    "rust, a Cargo workspace": (RUST, RUST_EXPECTED, (".rs",)),
    "java, a Maven tree": (JAVA, JAVA_EXPECTED, (".java",)),
    "c and c++ includes": (NATIVE, NATIVE_EXPECTED, ("",)),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_import_of_a_realistic_layout(layout: str, tmp_path: Path) -> None:
    files, expected, sources = LAYOUTS[layout]
    root = _write(tmp_path / "repo", files)
    idx = _index(root)
    assert sorted(expected) == sorted(r for r in files if r.endswith(sources))
    for rel, imports in expected.items():
        assert _resolutions(idx, root, rel) == imports, rel


def _native_decoys(root: Path) -> None:
    """Add same-named declarations elsewhere, so that names alone cannot tell which is meant."""
    for i in range(3):
        _write(root, {f"c/examples/ex{i}/geo{i}.h": f"""
            double circle_area(double r, int unit{i});
            typedef struct {{ int d{i}; }} point_t;
            void *make_circle(int pool{i});
        """})


def test_c_prototype_from_the_header_reaches_the_context(native_repo: Path,
                                                        tmp_path: Path) -> None:
    _native_decoys(native_repo)
    blocks = _context_after(native_repo, "c/src/main.c", "circle_area(", tmp_path)
    header = blocks["c/include/proj/geometry.h"]
    assert "double circle_area(double r)" in header
    assert "point_t midpoint(point_t a, point_t b)" in header
    # point_t comes from types.h, which geometry.h includes: includes are followed.
    assert "c/include/proj/types.h" in blocks
    everything = "\n".join(blocks.values())
    assert "float radius" not in everything and "int unit" not in everything


def test_cpp_declaration_from_the_header_reaches_the_context(native_repo: Path,
                                                            tmp_path: Path) -> None:
    _native_decoys(native_repo)
    _write(native_repo, {"cpp/include/legacy/circles.hpp": """
        int make_circle(int x, int y, int r);
    """})
    blocks = _context_after(native_repo, "cpp/src/main.cpp", "make_circle(", tmp_path)
    header = blocks["cpp/include/shapes/circle.hpp"]
    assert "std::unique_ptr<Shape> make_circle(double r)" in header
    everything = "\n".join(blocks.values())
    assert "int pool" not in everything and "int x, int y, int r" not in everything


# --- Scope without an import ---------------------------------------------------------------------

def test_java_class_of_the_same_package_wins_over_same_named_classes_nearby(tmp_path: Path) -> None:
    root = _write(tmp_path / "pkg", {
        "src/main/java/com/shop/Order.java": """
            package com.shop;

            public class Order {
                public long totalCents() {
                    return new Pricing().priceOf(this) + 0;
                }
            }
        """,
        # Same package, other source root (generated code): no import needed in Java.
        "src/generated/java/com/shop/Pricing.java": """
            package com.shop;

            public class Pricing {
                public long priceOf(Order order) { return 0; }
            }
        """,
        # The same class name in other packages, nearer by path: what name matching picks.
        "src/main/java/com/other/Pricing.java": """
            package com.other;

            public class Pricing {
                public long priceOf(String sku, int decoy) { return 0; }
            }
        """,
    })
    for i in range(10):
        _write(root, {f"src/main/java/com/shop/v{i}/Pricing.java": f"""
            package com.shop.v{i};

            public class Pricing {{
                public long priceOf(String sku, int decoy{i}) {{ return 0; }}
            }}
        """})
    blocks = _context_after(root, "src/main/java/com/shop/Order.java", "priceOf(", tmp_path)
    everything = "\n".join(blocks.values())
    assert "public long priceOf(Order order)" in everything
    # `new Pricing()` names the class in scope: the others' members are not offered.
    assert "decoy" not in everything


def test_rust_module_imported_by_use_is_followed_through_its_alias(tmp_path: Path) -> None:
    root = _write(tmp_path / "crate", {
        "Cargo.toml": '[package]\nname = "shop"\nversion = "0.1.0"\n',
        "src/lib.rs": "pub mod pricing;\npub mod checkout;\n",
        "src/pricing.rs": "pub fn price_of(sku: &str) -> u64 {\n    0\n}\n",
        "src/checkout.rs": """
            use crate::pricing;

            pub fn total(skus: &[&str]) -> u64 {
                skus.iter().map(|s| pricing::price_of(s)).sum()
            }
        """,
        # The same function name in another module: not what `pricing::` names.
        "src/legacy.rs": "pub fn price_of(sku: &str, decoy: bool) -> u64 {\n    1\n}\n",
    })
    blocks = _context_after(root, "src/checkout.rs", "pricing::price_of(", tmp_path)
    assert "pub fn price_of(sku: &str) -> u64" in blocks.get("src/pricing.rs", "")
    assert "decoy" not in "\n".join(blocks.values())


def test_python_package_opened_as_the_workspace_resolves_its_absolute_imports(
        tmp_path: Path) -> None:
    """A workspace that is the package directory itself (`shop/` opened, not its parent):
    `from shop.money import add` and `from shop import money` still name its files."""
    root = _write(tmp_path / "shop", {
        "__init__.py": "",
        "money.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
        "cart.py": """
            from shop import money
            from shop.money import add
            import shop
            """,
    })
    found = _resolutions(_index(root), root, "cart.py")
    assert found == {"shop {money}": ["__init__.py"], "shop.money {add}": ["money.py"],
                     "shop as shop": ["__init__.py"]}
