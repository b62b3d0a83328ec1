"""Generate python/bm25x/data/sample.jsonl, the small corpus `bm25x demo` searches.

Each topic has a bank of short sentences (written for bm25x); every document is a title and
two or three sentences of one topic, picked by a seeded generator, so the file is the same on
every run. 12 topics x 25 documents = 300 documents.

    python tools/gen_sample_corpus.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "python" / "bm25x" / "data" / "sample.jsonl"
PER_TOPIC = 25

TOPICS: dict[str, list[str]] = {
    "Volcanoes": [
        "Volcanoes erupt when molten rock rises through cracks in the crust and pressure builds.",
        "Magma rich in dissolved gas erupts explosively, throwing ash high into the atmosphere.",
        "Shield volcanoes such as those in Hawaii grow from runny basalt lava flows.",
        "A stratovolcano is built from alternating layers of ash, cinders and hardened lava.",
        "Volcanologists watch ground swelling and small earthquakes to forecast an eruption.",
        "Pyroclastic flows are fast avalanches of hot gas and rock that race down a volcano.",
        "Volcanic ash can ground aircraft because it melts inside jet engines.",
        "Many volcanoes sit along the Pacific Ring of Fire where tectonic plates collide.",
        "Fertile volcanic soil draws farmers to the slopes of active volcanoes.",
        "Geysers and hot springs are heated by magma chambers below the surface.",
    ],
    "Bread baking": [
        "A sourdough starter is a culture of wild yeast and lactic acid bacteria fed with flour.",
        "Kneading develops gluten, the stretchy protein network that traps gas in bread dough.",
        "Bread dough rises as yeast ferments sugars into carbon dioxide and alcohol.",
        "Baking bread in a preheated Dutch oven traps steam and gives a crisp crust.",
        "A longer, colder proof in the refrigerator deepens the flavour of the loaf.",
        "Whole wheat flour absorbs more water than white flour, so the dough needs more liquid.",
        "Scoring the loaf with a razor lets it expand evenly in the oven.",
        "Bakers check that a loaf is done by tapping the bottom and listening for a hollow sound.",
        "Salt slows fermentation and tightens the gluten, so it is weighed with care.",
        "Feed the sourdough starter daily and keep part of it for the next bake.",
    ],
    "Cats": [
        "Cats purr by vibrating the muscles of the larynx as they breathe in and out.",
        "A purring cat is often content, but cats also purr when they are hurt or stressed.",
        "Cats sleep for twelve to sixteen hours a day and hunt mostly at dawn and dusk.",
        "Whiskers help a cat judge whether its body will fit through a narrow gap.",
        "Kittens learn to hunt by watching their mother and by play fighting with littermates.",
        "A cat kneads soft blankets with its paws, a habit left over from nursing.",
        "Cats are obligate carnivores and need taurine, which they get from meat.",
        "The slow blink of a cat is a friendly signal that owners can return.",
        "Scratching posts let cats sharpen their claws and mark territory with scent glands.",
        "Domestic cats descend from the African wildcat and lived beside the first farmers.",
    ],
    "Comets and planets": [
        "Comets are icy bodies that grow a glowing coma and tails when they approach the Sun.",
        "A comet's dust tail curves along its orbit while the ion tail points away from the Sun.",
        "Jupiter is the largest planet and its Great Red Spot is a storm older than telescopes.",
        "Saturn's rings are made of countless pieces of ice and rock orbiting the planet.",
        "Mars looks red because iron minerals in its dust have rusted.",
        "Meteor showers happen when Earth passes through the debris left by a comet.",
        "Astronomers find exoplanets by the tiny dip in starlight as a planet passes its star.",
        "Venus is the hottest planet because its thick carbon dioxide air traps heat.",
        "The Oort cloud is a distant shell of icy objects that sends long-period comets inward.",
        "Halley's comet returns roughly every seventy-six years.",
    ],
    "Python programming": [
        "A list comprehension builds a new list from an iterable in a single readable expression.",
        "Python dictionaries map keys to values and keep insertion order.",
        "Virtual environments isolate the packages of each Python project.",
        "Generators yield values one at a time, so they can process streams larger than memory.",
        "Type hints document what a function expects and let tools like mypy find mistakes.",
        "The with statement closes files and releases locks even when an exception is raised.",
        "pytest discovers test functions whose names start with test and reports failures.",
        "Decorators wrap a function to add behaviour such as caching or logging.",
        "The global interpreter lock lets one thread run Python bytecode at a time.",
        "f-strings format values inside string literals with expressions in braces.",
    ],
    "Gardening": [
        "Tomatoes need at least six hours of sun and steady watering to avoid split fruit.",
        "Compost returns nutrients to the soil and improves its structure.",
        "Mulch keeps soil moist, suppresses weeds and evens out soil temperature.",
        "Rotating crops each year reduces pests and diseases that build up in the soil.",
        "Prune roses in late winter just above an outward facing bud.",
        "Bees and other pollinators visit flowers for nectar and carry pollen between plants.",
        "Seedlings grown indoors should be hardened off gradually before planting out.",
        "Raised beds warm up earlier in spring and drain well after heavy rain.",
        "Legumes such as beans and peas fix nitrogen with bacteria in their root nodules.",
        "Water the garden early in the morning so leaves dry before evening.",
    ],
    "Oceans": [
        "Coral reefs are built by tiny animals that live in partnership with algae.",
        "Warm water makes corals expel their algae, a stress called coral bleaching.",
        "Tides are raised mainly by the Moon's gravity pulling on the oceans.",
        "The Mariana Trench is the deepest known part of the ocean floor.",
        "Whales communicate with songs that can travel across hundreds of kilometres of sea.",
        "Ocean currents carry heat from the tropics toward the poles.",
        "Phytoplankton near the sea surface produce much of the oxygen we breathe.",
        "Octopuses change colour in an instant using cells called chromatophores.",
        "Sea turtles return to the beaches where they hatched to lay their eggs.",
        "The ocean absorbs carbon dioxide, which makes seawater slowly more acidic.",
    ],
    "Coffee": [
        "Coffee beans are the roasted seeds of the cherries of the coffee plant.",
        "Arabica coffee grows at high altitude and tastes sweeter than robusta.",
        "Espresso forces hot water through finely ground coffee at high pressure.",
        "A pour-over brew needs a medium grind and water just off the boil.",
        "Light roasts keep fruity acidity while dark roasts taste of chocolate and smoke.",
        "Caffeine blocks adenosine receptors in the brain, which keeps drowsiness away.",
        "Cold brew steeps coarse coffee in cold water for twelve hours or more.",
        "Freshly ground beans lose aroma within minutes, so grind just before brewing.",
        "Milk foam for a cappuccino is made by steaming milk with a little air.",
        "Coffee was first brewed in Yemen and spread through the Ottoman Empire.",
    ],
    "Cycling": [
        "Keeping tyres at the right pressure makes a bicycle faster and avoids punctures.",
        "A clean, lightly oiled chain shifts smoothly and lasts longer.",
        "Cyclists in a peloton save energy by riding in each other's slipstream.",
        "Disc brakes stop a bicycle reliably in wet weather.",
        "Adjust the saddle height so the knee is slightly bent at the bottom of the stroke.",
        "Commuting by bicycle builds fitness and cuts traffic and emissions.",
        "Gears let a rider keep a comfortable cadence on steep climbs.",
        "Fix a flat tyre by finding the puncture, patching the tube and checking the tyre.",
        "Bright lights and reflective clothing help cyclists be seen at night.",
        "The Tour de France covers about three and a half thousand kilometres in three weeks.",
    ],
    "Printing history": [
        "Johannes Gutenberg's movable type printing press spread books across Europe.",
        "Woodblock printing was used in China centuries before movable type reached Europe.",
        "The Gutenberg Bible was printed in Mainz around 1455.",
        "Printed pamphlets carried the ideas of the Reformation quickly from town to town.",
        "Cheaper books raised literacy and created a market for newspapers.",
        "Steam-powered presses in the nineteenth century printed thousands of pages an hour.",
        "Linotype machines cast whole lines of metal type for newspaper pages.",
        "Offset lithography transfers ink from a plate to a rubber blanket and then to paper.",
        "Early printers mixed ink from soot, varnish and linseed oil.",
        "Desktop publishing and laser printers put typesetting on office desks.",
    ],
    "Weather": [
        "Thunderstorms form when warm moist air rises quickly and condenses into tall clouds.",
        "Lightning heats the air so fast that it expands with the crack of thunder.",
        "Hurricanes draw their energy from warm ocean water.",
        "A cold front brings a sudden drop in temperature and often heavy showers.",
        "Rainbows appear when sunlight is refracted and reflected inside raindrops.",
        "Fog is a cloud at ground level, common on still nights after a clear day.",
        "Barometers measure air pressure, and falling pressure often means rain is coming.",
        "Snowflakes grow as six-sided ice crystals around tiny particles of dust.",
        "Weather forecasts run computer models of the atmosphere on supercomputers.",
        "The jet stream is a fast river of air that steers storms across continents.",
    ],
    "Musical instruments": [
        "A violin's sound comes from a bow drawn across strings, amplified by its wooden body.",
        "Pianos strike strings with felt hammers when keys are pressed.",
        "Tuning a guitar means adjusting string tension until each string hits its pitch.",
        "Brass players change notes with their lips and with valves or a slide.",
        "The pipe organ sends air through pipes of different lengths to make each note.",
        "Drums are tuned by tightening or loosening the skin stretched across the shell.",
        "A clarinet makes sound with a single reed vibrating against the mouthpiece.",
        "Metronomes help musicians practise at a steady tempo.",
        "The harp has strings of different lengths, each plucked for one pitch.",
        "Electric guitars use magnetic pickups that turn string vibration into a signal.",
    ],
}


def main() -> None:
    rng = random.Random(6)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with OUT.open("w", encoding="utf-8") as f:
        for topic, sentences in TOPICS.items():
            seen: set[tuple[int, ...]] = set()
            while len(seen) < PER_TOPIC:
                picks = tuple(rng.sample(range(len(sentences)), rng.choice((2, 3))))
                if picks in seen:
                    continue
                seen.add(picks)
                n += 1
                record = {
                    "_id": f"doc-{n:03d}",
                    "title": topic,
                    "text": " ".join(sentences[i] for i in picks),
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {n} documents to {OUT}")


if __name__ == "__main__":
    main()
