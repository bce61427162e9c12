"""`vmapp images build|list|prune`: guest images built offline from recipes, cached by recipe
key; a build no recipe produces any more is pruned with its Vagrant box and pool copy."""

from __future__ import annotations

import argparse
import shutil

from harness.errors import CleanupErrors, HarnessError
from harness.images.build import builds, cached, corrupt_images, ensure_image, stale_images
from harness.images.recipe import find_recipe, recipe_names
from harness.images.userbox import BoxRecipe
from harness.machines import libvirtd, warm
from harness.machines.vagrantcli import ensure_box, remove_box
from harness.machines.windowsbox import check_vagrant


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("images", help="build or list guest images")
    verbs = p.add_subparsers(dest="images_verb", required=True, metavar="ACTION")
    build = verbs.add_parser("build", help="build an image (no-op when cached; a user's "
                             "Windows box is added to Vagrant)")
    build.add_argument("names", nargs="+", metavar="NAME")
    build.set_defaults(handler=handle_build)
    verbs.add_parser("list", help="recipes and their cached builds (each an image version "
                     "of the recipe's image definition)").set_defaults(
        handler=handle_list)
    prune = verbs.add_parser("prune", help="remove builds no recipe produces any more (a "
                             "recipe's older image versions too), with their Vagrant boxes, "
                             "libvirt volumes and warm machines")
    prune.add_argument("--dry-run", action="store_true", help="only say what would go")
    prune.set_defaults(handler=handle_prune)


def handle_build(args: argparse.Namespace) -> int:
    for name in args.names:
        recipe = find_recipe(name)
        if isinstance(recipe, BoxRecipe):  # a user's Windows box: nothing to build
            image = ensure_image(recipe)
            ensure_box(image)
            check_vagrant(recipe, image.box_name)
            print(f"{name}: a user's Windows box, in Vagrant as {image.box_name}")
            continue
        was_cached = cached(recipe) is not None
        image = ensure_image(recipe)
        state = "cached" if was_cached else f"built in {image.manifest['build_seconds']}s"
        print(f"{name}: {state} -> {image.box_file}")
    return 0


def handle_list(args: argparse.Namespace) -> int:
    corrupt = corrupt_images()
    broken = {image.folder.name for image in corrupt}
    print(f"{'recipe':14} {'key':14} {'cached':8} {'built':21} image version")
    for name in recipe_names():
        recipe = find_recipe(name)
        image = cached(recipe)
        built = str(image.manifest.get("built_at", "-")) if image else "-"
        state = "yes" if image else "corrupt" if f"{name}-{recipe.key}" in broken else "no"
        print(f"{name:14} {recipe.key:14} {state:8} {built:21} {image.version if image else '-'}")
        for other in builds(name):  # another recipe's build: another image version (prune: gone)
            if other.key != recipe.key:
                print(f"{'':14} {other.key:14} {'other':8} "
                      f"{other.manifest.get('built_at')!s:21} {other.version}")
    for image in corrupt:
        print(f"corrupt cache entry {image.folder}: unreadable image.json "
              "(`vmapp images prune` removes it, a run builds it again)")
    return 0


def handle_prune(args: argparse.Namespace) -> int:
    stale = stale_images()
    if not stale:
        print("no stale images")
        return 0
    libvirtd.ensure_daemons()
    conn = libvirtd.open_connection()
    try:
        if not args.dry_run and libvirtd.harness_domains(conn):
            print("harness VMs exist (they may use these boxes): run `vmapp gc` first")
            return 1
        failures: list[BaseException] = []
        for image in stale:
            print(f"{'would remove' if args.dry_run else 'removing'} {image.name} "
                  f"{image.key}: {image.folder}, box {image.box_name}")
            if args.dry_run:
                continue
            try:
                warm.remove_for(image.key)  # their disks' backing file is the box
                remove_box(image)
                libvirtd.remove_box_volumes(conn, image.box_name)
                shutil.rmtree(image.folder)
            except CleanupErrors as exc:
                failures.extend(exc.failures)
            except (HarnessError, OSError) as exc:
                failures.append(exc)
    finally:
        conn.close()
    if failures:
        raise CleanupErrors(failures)
    return 0
