"""Draw the kiosk HUD for a sequence of realistic views, offscreen, one PNG each.

    python tests/game/hud_demo.py OUT_DIR [WIDTHxHEIGHT]

Prints JSON: per view its PNG and ``Hud.texts()``, the actions that ``Hud.press``
delivered, and which parts an update redrew. Run in a subprocess by
tests/game/test_hud.py (Panda3D allows one ShowBase per process); also a way to look
at the HUD: the PNGs land in OUT_DIR.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from game.kiosk.view import (  # noqa: E402
    Action,
    Budget,
    Button,
    Callout,
    HudView,
    KpiCard,
    Legend,
    PaletteItem,
    ProposalCard,
    QuestionView,
    Toast,
)
from world.catalog import load_catalog  # noqa: E402

CATALOG_IDS = tuple(entry.id for entry in load_catalog())
LANGS = ("en", "fi", "sv", "nl", "fr", "de")
_T = {
    "en": {"title": "Bulevardi: a cooler street", "phase": "Explore · 12:04 left", "status": "Online",
           "hint": "Drag to look around · walk with the pad or the arrow keys · tap the ground to walk there",
           "tools": ("Undo", "Redo", "Rotate", "Remove", "Walk", "Map", "Propose", "Vote", "Finish"),
           "overlays": ("Nothing", "Shade", "Heat", "Noise", "Walk to a park", "Rain runoff"),
           "no_change": "no change", "budget": "€12,400 of €250,000", "toast": "Medium tree placed.",
           "busy": "Updating Noise…",
           "callout": ("This Medium tree:", "38 m² more shade on sidewalks and squares at 15:00",
                       "−0.4 °C felt temperature nearby", "2 seats in the shade"),
           "legend": "Felt temperature (UTCI)"},
    "fi": {"title": "Bulevardi: viileämpi katu", "phase": "Tutki · 12:04 jäljellä", "status": "Verkossa",
           "hint": "Katso ympärillesi vetämällä · kävele ohjaimella tai nuolinäppäimillä · napauta maata",
           "tools": ("Kumoa", "Tee uudelleen", "Käännä", "Poista", "Kävele", "Kartta", "Ehdota", "Äänestä",
                     "Lopeta"),
           "overlays": ("Ei mitään", "Varjo", "Helle", "Melu", "Kävelymatka puistoon", "Hulevesi"),
           "no_change": "ei muutosta", "budget": "12 400 € / 250 000 €", "toast": "Keskikokoinen puu lisätty.",
           "busy": "Päivitetään: Melu…", "callout": ("Tämä keskikokoinen puu:",
                                                     "38 m² lisää varjoa jalkakäytävillä ja aukioilla klo 15.00",
                                                     "−0,4 °C tuntuva lämpötila lähellä", "2 penkkiä varjossa"),
           "legend": "Tuntuva lämpötila (UTCI)"},
}
_KPIS = {  # name: (en, fi, value en, value fi, delta en, delta fi, verdict)
    "shade_public_pct": ("Shaded sidewalks and squares", "Varjoisat jalkakäytävät ja aukiot", "41.2 %", "41,2 %",
                         "+0.3 %", "+0,3 %", "better"),
    "shade_public_m2": ("Shaded sidewalk and square area", "Varjoisa jalkakäytävä- ja aukioala", "33,305 m²",
                        "33 305 m²", "+38 m²", "+38 m²", "better"),
    "seats_in_shade": ("Seats in the shade", "Penkit varjossa", "14", "14", "+2", "+2", "better"),
    "utci_mean_c": ("Felt temperature in public space", "Tuntuva lämpötila julkisessa tilassa", "31.8 °C",
                    "31,8 °C", "−0.4 °C", "−0,4 °C", "better"),
    "strong_heat_pct": ("Public space in strong heat stress", "Julkinen tila voimakkaassa lämpöstressissä",
                        "22.5 %", "22,5 %", "−1.1 %", "−1,1 %", "better"),
    "homes_3_trees_pct": ("Homes that see 3 trees", "Kodit, joista näkyy 3 puuta", "64 %", "64 %", "no change",
                          "ei muutosta", "same"),
    "homes_30_canopy_pct": ("Homes with 30 % tree cover nearby", "Kodit, joiden lähellä 30 % puustoa", "18 %",
                            "18 %", "+1 %", "+1 %", "better"),
    "homes_300_park_pct": ("Homes within 300 m of a park", "Kodit 300 m päässä puistosta", "87 %", "87 %",
                           "no change", "ei muutosta", "same"),
    "homes_3_30_300_pct": ("Homes meeting the 3-30-300 rule", "3-30-300-säännön täyttävät kodit", "12 %", "12 %",
                           "+1 %", "+1 %", "better"),
    "runoff_m3": ("Storm water running off", "Pois valuva hulevesi", "412 m³", "412 m³", "−3 m³", "−3 m³",
                  "better"),
    "rain_retained_pct": ("Rain held where it falls", "Paikalleen pidättyvä sadevesi", "38 %", "38 %", "+0.5 %",
                          "+0,5 %", "better"),
    "homes_above_55db_pct": ("Homes above 55 dB of road noise", "Kodit, joissa tiemelu yli 55 dB", "46 %", "46 %",
                             "+2 %", "+2 %", "worse"),
    "facade_lden_mean_db": ("Mean road noise at façades", "Tiemelu julkisivuilla keskimäärin", "57.3 dB", "57,3 dB",
                            "+0.4 dB", "+0,4 dB", "worse"),
}


def _heat_legend(title: str) -> Legend:
    from sims.heat import UTCI_RAMP

    labels = ((-13.0, "−13"), (0.0, "0"), (9.0, "9"), (26.0, "26"), (32.0, "32"), (38.0, "38"), (46.0, "46 °C"))
    return Legend(title, "°C", tuple((float(v), tuple(int(c) for c in rgba)) for v, rgba in UTCI_RAMP.stops),
                  labels)


def _languages(current: str) -> tuple[Button, ...]:
    return tuple(Button(code.upper(), Action.of("lang", code=code), selected=code == current) for code in LANGS)


def explore_view(lang: str, *, kpis: int = 13, **changes) -> HudView:
    """The explore screen after placing a tree with the heat overlay on."""
    t = _T[lang]
    catalog = load_catalog()
    costs = ("€450", "€1,200", "€2,800", "€900", "€85 / m²", "€140 / m²", "€95 / m²", "€160 / m²", "€120 / m²",
             "€320 / m", "€60,000", "€4,500", "€1,800,000", "€250,000")
    if lang != "en":  # "€1,200" -> "1 200 €", "€60 / m²" -> "60 €/m²"
        costs = tuple(c.replace("€", "").replace(",", " ").replace(" / ", " €/") + ("" if "/" in c else " €")
                      for c in costs)
    disabled = ("new-building", "remove-building")  # not allowed in this scenario
    palette = tuple(PaletteItem(entry.id, entry.name[lang], cost, Action.of("select", catalog=entry.id),
                                selected=entry.id == "tree-medium", enabled=entry.id not in disabled)
                    for entry, cost in zip(catalog, costs, strict=True))
    tools = tuple(Button(label, Action.of(*spec[:1], **spec[1]), selected=label in ("Walk", "Kävele"))
                  for label, spec in zip(t["tools"], (("undo", {}), ("redo", {}), ("rotate", {"degrees": 45}),
                                                      ("delete", {"placed": "p3"}), ("mode", {"to": "walk"}),
                                                      ("mode", {"to": "overview"}), ("screen", {"to": "propose"}),
                                                      ("screen", {"to": "vote"}), ("finish", {})), strict=True))
    overlays = tuple(Button(label, Action.of("overlay", sim=sim), selected=sim == "heat")
                     for label, sim in zip(t["overlays"], (None, "shade", "heat", "noise", "green", "runoff"),
                                           strict=True))
    cards = tuple(KpiCard(name, v[0 if lang == "en" else 1], v[2 if lang == "en" else 3], v[4 if lang == "en" else 5],
                          v[6]) for name, v in list(_KPIS.items())[:kpis])
    view = HudView(
        screen="explore", lang=lang, languages=_languages(lang), title=t["title"], phase=t["phase"],
        status=t["status"], palette=palette, tools=tools, overlays=overlays, legend=_heat_legend(t["legend"]),
        kpis=cards, budget=Budget(12400.0, 250000.0, t["budget"]), callout=Callout(10.0, 4.0, 6.0, t["callout"]),
        toast=Toast(t["toast"], "success"), busy=t["busy"], hint=t["hint"])
    return replace(view, **changes)


def _screen(screen: str, lang: str, **fields) -> HudView:
    base = HudView(screen=screen, lang=lang, languages=_languages(lang), title=_T["en"]["title"], status="Online")
    return replace(base, **fields)


ATTRACT = _screen("attract", "en", heading="Shape your street",
                  body=("Shape your street: plant trees, add benches, see what changes.",),
                  buttons=(Button("Touch the screen to start", Action.of("start")),))
CONSENT_DE = _screen(
    "consent", "de", heading="Bevor Sie beginnen",
    body=("Dieser Kiosk ist anonym. Er speichert, was Sie platzieren, Ihren Vorschlag, Ihre Stimmen, Ihre Sprache "
          "und wie lange Sie geblieben sind: kein Name, kein Foto, kein Konto. Wenn Sie fertig sind oder gehen, "
          "wird der Bildschirm für die nächste Person gelöscht.",),
    buttons=(Button("Ich verstehe, los geht’s", Action.of("consent")),
             Button("Nein danke", Action.of("decline"))))
LANGUAGE = _screen("language", "en", heading="Choose your language", languages=tuple(
    Button(name, Action.of("lang", code=code), selected=code == "en") for code, name in
    zip(LANGS, ("English", "Suomi", "Svenska", "Nederlands", "Français", "Deutsch"), strict=True)))
PROPOSE = _screen("propose", "en", heading="Name your proposal", text_input="Shady Bulevardi «for everyone»",
                  phase="Propose · 6:30 left",
                  body=("3 interventions · Shade +38 m² · Felt temperature −0.4 °C",),
                  buttons=(Button("Send proposal", Action.of("propose", title="Shady Bulevardi «for everyone»")),
                           Button("Cancel", Action.of("screen", to="explore"))))
PROPOSALS = _screen("proposals", "en", heading="Proposals so far", phase="Propose · 6:30 left", proposals=(
    ProposalCard("pr1", "Shady Bulevardi «for everyone»", ("3 interventions", "Shade +38 m²"),
                 Action.of("fly_to", proposal="pr1"), mine=True),
    ProposalCard("pr2", "Rain gardens on Fredrikinkatu", ("5 interventions", "Storm water −12 m³"),
                 Action.of("fly_to", proposal="pr2")),
    ProposalCard("pr3", "Benches & trees by the school", ("7 interventions", "Seats in the shade +6"),
                 Action.of("fly_to", proposal="pr3")),
    ProposalCard("pr4", "Bike lane to the market", ("1 intervention", "Road noise −0.8 dB"),
                 Action.of("fly_to", proposal="pr4"))),
    buttons=(Button("Back to the street", Action.of("screen", to="explore")),))


def _vote_view() -> HudView:
    def options(question: str, labels: tuple[str, ...], chosen: int | None) -> tuple[Button, ...]:
        return tuple(Button(label, Action.of("vote", question=question, choice=str(i)), selected=i == chosen)
                     for i, label in enumerate(labels))

    questions = (
        QuestionView("q1", "choice", "What should Bulevardi have more of?",
                     options("q1", ("Trees and shade", "Places to sit", "Room for bikes"), 0), "Vote received ✓"),
        QuestionView("q2", "score", "How important is a cooler street for you in summer?",
                     options("q2", ("1", "2", "3", "4", "5"), None)),
        QuestionView("q3", "proposal", "Which proposal do you like best?",
                     options("q3", ("Shady Bulevardi «for everyone»", "Rain gardens on Fredrikinkatu",
                                    "Benches & trees by the school", "Bike lane to the market"), 2),
                     "Vote saved on this kiosk"),
    )
    return _screen("vote", "en", heading="Your vote", phase="Vote · 4:12 left", questions=questions,
                   buttons=(Button("Back to the street", Action.of("screen", to="explore")),
                            Button("Finish", Action.of("finish"))))


THANKS = _screen("thanks", "en", heading="Thank you!",
                 body=("Your ideas are saved. The screen is now wiped for the next person.",))
CALLOUT_XY = (560.0, 400.0)


def demo_views(size: tuple[int, int]) -> list[tuple[str, HudView, tuple[float, float] | None, float, tuple]]:
    """(name, view, callout anchor, now, buttons to press) in showing order."""
    k = size[1] / 720.0
    xy = (CALLOUT_XY[0] * k, CALLOUT_XY[1] * k)
    return [
        ("explore-en", explore_view("en"), xy, 0.3, ("Undo", "Heat", "Bench", "FI", "select")),
        ("explore-fi", explore_view("fi"), xy, 0.6, ("Kumoa", "Puisto")),
        ("explore-hc", explore_view("en", high_contrast=True), xy, 0.9, ("Map",)),
        ("explore-large", explore_view("en", large_text=True, kpis=4, toast=Toast(
            "That would go over the budget of €250,000.", "error")), (xy[0], 150.0 * k), 1.2, ("Redo",)),
        ("explore-idle", explore_view("en", busy=None, toast=None, countdown="Still there? Starting over in 9 s",
                                      buttons=(Button("I'm still here", Action.of("still_here")),)), xy, 0.0,
         ("I'm still here", "Undo")),
        ("attract", ATTRACT, None, 0.45, ("start", "DE")),
        ("consent-de", CONSENT_DE, None, 0.0, ("Ich verstehe, los geht’s", "Nein danke")),
        ("language", LANGUAGE, None, 0.0, ("Suomi",)),
        ("propose", PROPOSE, None, 0.0, ("Send proposal",)),
        ("proposals", PROPOSALS, None, 0.0, ("Rain gardens on Fredrikinkatu",)),
        ("vote", _vote_view(), None, 0.0, ("Places to sit", "4", "Finish")),
        ("vote-hc-large", replace(_vote_view(), high_contrast=True, large_text=True), None, 0.0, ()),
        ("thanks", THANKS, None, 0.0, ()),
        ("consent-hc", replace(CONSENT_DE, high_contrast=True), None, 0.0, ()),
    ]

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _backdrop(parent, size: tuple[int, int]) -> None:
    """A flat street picture standing in for the 3D scene behind the HUD."""
    from game.kiosk._hud_shapes import fill_rect

    width, height = size
    node = parent.attach_new_node("backdrop")
    node.set_pos(-1.0, 0.0, 1.0)
    node.set_scale(2.0 / width, 1.0, 2.0 / height)
    node.set_bin("background", 0)
    node.set_depth_test(False)
    node.set_depth_write(False)
    for i in range(12):  # sky gradient
        t = i / 11
        fill_rect(node, 0, height * 0.45 * t, width, height * 0.45 / 11 + 1, (0.55 + 0.3 * t, 0.72 + 0.18 * t, 0.92, 1))
    fill_rect(node, 0, height * 0.45, width, height * 0.55, (0.52, 0.53, 0.55, 1))  # street
    fill_rect(node, 0, height * 0.62, width, height * 0.06, (0.78, 0.77, 0.74, 1))  # sidewalk
    colours = [(0.85, 0.72, 0.58, 1), (0.93, 0.88, 0.78, 1), (0.70, 0.55, 0.48, 1), (0.80, 0.82, 0.80, 1)]
    x = -40.0
    for i in range(14):
        w = width * (0.09 + 0.03 * (i % 3))
        h = height * (0.22 + 0.05 * ((i * 7) % 4))
        fill_rect(node, x, height * 0.45 - h, w, h, colours[i % 4])
        for wy in range(3):
            for wx in range(3):
                fill_rect(node, x + w * (0.15 + 0.27 * wx), height * 0.45 - h + h * (0.15 + 0.27 * wy), w * 0.14,
                          h * 0.12, (0.35, 0.45, 0.55, 1))
        x += w + 6
    for i in range(9):
        cx = width * (0.08 + 0.11 * i)
        r = height * 0.05
        fill_rect(node, cx - r * 0.12, height * 0.58, r * 0.24, height * 0.06, (0.42, 0.30, 0.2, 1))
        fill_rect(node, cx - r, height * 0.52, 2 * r, 2 * r, (0.25, 0.55 + 0.04 * (i % 3), 0.28, 1), r)


def _icon_textures():
    """A solid-colour disc per catalog id: the demo's stand-in for real pictograms."""
    from panda3d.core import PNMImage, Texture

    textures = {}
    for i, catalog in enumerate(CATALOG_IDS):
        hue = i / len(CATALOG_IDS)
        r, g, b = (0.5 + 0.45 * math.cos(2 * math.pi * (hue + k / 3)) for k in range(3))
        image = PNMImage(64, 64, 4)
        image.fill(r, g, b)
        for y in range(64):
            for x in range(64):
                inside = (x - 31.5) ** 2 + (y - 31.5) ** 2 <= 30.0**2
                image.set_alpha(x, y, 1.0 if inside else 0.0)
        texture = Texture(catalog)
        texture.load(image)
        textures[catalog] = texture
    return textures


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    size = tuple(int(v) for v in (argv[2] if len(argv) > 2 else "1280x720").split("x"))
    out.mkdir(parents=True, exist_ok=True)
    from panda3d.core import Filename, SamplerState, loadPrcFileData

    loadPrcFileData("", "load-display p3headlessgl\nwindow-type offscreen\naudio-library-name null\n"
                        f"win-size {size[0]} {size[1]}\nnotify-level error\nnotify-level-device fatal\n"
                        "print-pipe-types false\nframebuffer-multisample 1\nmultisamples 4\n")
    from direct.showbase.ShowBase import ShowBase

    from game.kiosk.hud import Hud

    app = ShowBase()
    fonts = []
    for path in (FONT, BOLD_FONT):
        font = app.loader.load_font(path)
        font.set_pixels_per_unit(max(48, int(size[1] / 15)))
        font.set_page_size(1024, 1024)
        font.set_minfilter(SamplerState.FT_linear_mipmap_linear)
        fonts.append(font)
    app.win.set_clear_color((0.6, 0.75, 0.9, 1.0))
    _backdrop(app.render2d, size)
    textures = _icon_textures()
    if app.mouseWatcherNode is None:  # offscreen: no mouse, but buttons still get their regions for hit tests
        from panda3d.core import MouseWatcher

        app.aspect2d.node().set_mouse_watcher(MouseWatcher("hud-demo-mouse"))
    watcher = app.aspect2d.node().get_mouse_watcher()
    actions: list[list] = []
    hud = Hud(app.aspect2d, font=fonts[0], bold_font=fonts[1], icon=textures.get,
              on_action=lambda action: actions.append([action.name, dict(action.args)]), size_px=size)
    report: dict = {"size": list(size), "views": {}, "presses": {}}
    for name, view, callout_xy, now, presses in demo_views(size):
        hud.update(view, callout_xy=callout_xy, now=now)
        app.graphicsEngine.render_frame()
        app.graphicsEngine.render_frame()
        png = out / f"{name}.png"
        app.win.save_screenshot(Filename.from_os_specific(str(png)))
        report["views"][name] = {"png": str(png), "texts": hud.texts()}
        for target in presses:
            del actions[:]
            try:
                action = hud.press(target)
            except LookupError as error:
                actions.append(["error", {"message": str(error)}])
            else:
                actions.append(["hit", {"under_pointer": _hit(hud, watcher, action)}])
            report["presses"][f"{name}:{target}"] = list(actions)
    # Only what changed is redrawn: a new toast leaves the palette's nodes alone.
    base = explore_view("en")
    hud.update(base)
    before = {part: _keys(hud, part) for part in ("palette", "kpis", "toast", "topbar")}
    hud.update(replace(base, toast=None))
    hud.update(replace(base, toast=None), now=1.0)
    report["redrawn"] = sorted(part for part, keys in before.items() if _keys(hud, part) != keys)
    hud.destroy()
    report["left_after_destroy"] = app.aspect2d.find_all_matches("**/hud").get_num_paths()
    app.destroy()
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _hit(hud, watcher, action) -> bool:
    """Whether a pointer at the centre of a button with ``action`` lands on that button
    (its frame maps to the screen where it is drawn, and nothing lies on top of it)."""
    from panda3d.core import LPoint2, LPoint3

    for part in hud._parts.values():  # the demo peeks at the parts to find the button
        for pressable in part.canvas.buttons:
            if pressable.action == action:
                widget = pressable.widget
                left, right, bottom, top = widget["frameSize"]
                screen = widget.get_top().get_relative_point(widget, LPoint3((left + right) / 2, 0, (bottom + top) / 2))
                region = watcher.get_over_region(LPoint2(screen.x, screen.z))
                if region is not None and region.get_name() == widget.guiId:
                    return True
    return False


def _keys(hud, part: str) -> tuple[int, ...]:
    node = hud._parts[part].canvas.node  # the demo peeks at the parts to report redraws
    return tuple(child.node().this for child in node.get_children())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
