"""`vmapp images build|list`: guest images built offline from recipes, cached by recipe key."""

from __future__ import annotations

import argparse

from harness.images.build import cached, ensure_image
from harness.images.recipe import find_recipe, recipe_names


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("images", help="build or list guest images")
    verbs = p.add_subparsers(dest="images_verb", required=True, metavar="ACTION")
    build = verbs.add_parser("build", help="build an image (no-op when cached)")
    build.add_argument("names", nargs="+", metavar="NAME")
    build.set_defaults(handler=handle_build)
    verbs.add_parser("list", help="recipes and their cached builds").set_defaults(
        handler=handle_list)


def handle_build(args: argparse.Namespace) -> int:
    for name in args.names:
        recipe = find_recipe(name)
        was_cached = cached(recipe) is not None
        image = ensure_image(recipe)
        state = "cached" if was_cached else f"built in {image.manifest['build_seconds']}s"
        print(f"{name}: {state} -> {image.box_file}")
    return 0


def handle_list(args: argparse.Namespace) -> int:
    print(f"{'recipe':14} {'key':14} {'cached':8} built")
    for name in recipe_names():
        recipe = find_recipe(name)
        image = cached(recipe)
        built = str(image.manifest["built_at"]) if image else "-"
        print(f"{name:14} {recipe.key:14} {'yes' if image else 'no':8} {built}")
    return 0
