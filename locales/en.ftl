# English: the customer's words. Every id here must exist in every other catalogue
# (the tests check); { $name } placeholders are filled in by the machine.

## Money
# How an amount reads: { $symbol } is the currency symbol from machine.toml, { $amount } the
# number with the decimal separator below.
money = { $symbol }{ $amount }
decimal-separator = .

## The display
welcome = Insert coins, then choose
welcome-free = Free vend today: choose a drink!
credit = Credit { $credit }: choose a drink
insert-more = { $product } costs { $price }: insert { $missing } more
sold-out = Sorry, { $product } is sold out
out-of-order = Sorry, { $product } is out of order: choose another
vending = Here comes your { $product }...
retrying = Your { $product } is stuck: trying again ({ $attempt } of { $of })...
please-wait = Please wait: your item is on its way
enjoy = Enjoy your { $product }!
refunded = Sorry, { $product } could not be delivered: { $amount } is back in your credit
coin-not-recognised = Coin not recognised: please call the operator
paying-out = Returning { $amount }: take your coins
credit-kept = Credit { $credit } is kept for your next choice
power-restored = Sorry, the power went out during your purchase: { $refunded } is back in your credit ({ $credit } in all)
service = Service in progress: vending paused
out-of-service = Out of service: sorry!
out-of-service-credit = Out of service: your credit { $credit } is safe
starting-up = Starting up: one moment please
storage-full = Out of service: storage full
storage-full-credit = Out of service: storage full. Your credit { $credit } is safe

## The kiosk page
page-language = Language
page-credit = Credit
page-coin-return = Coin return
page-products = Choose a drink
page-lamps = Lamps
lamp-ready = Ready
lamp-vending = Vending
lamp-fault = Fault
lamp-surprise = Surprise
lamp-on = on
lamp-off = off
page-feedback = How was it?
page-happy = Happy
page-unhappy = Not happy
page-thanks = Thank you for telling us!
page-attract-title = A little happiness is waiting
page-attract-hint = Touch the screen or insert a coin
page-front = Machine front (simulator)
page-coins = Insert a coin
page-tray = Delivery tray
page-tray-empty = The tray is empty
page-take = Take items
page-connection-lost = Out of service: sorry!
choose = Choose { $product }, { $price }
cannot-choose = { $product }: { $reason }
insert-coin = Insert { $coin }
coins-returned = { $count ->
    [one] One coin returned
   *[other] { $count } coins returned
}

## Why a selection cannot be bought
reason-sold-out = Sold out
reason-out-of-order = Out of order
reason-unavailable = Not available
reason-out-of-service = Out of service

## Surprise reveals
reveal-look = Look in the tray!
reveal-extra-item = A second { $product } to share
reveal-share-pack = { $count } × { $product } for you and your friends
reveal-gift = A gift for you: { $product }
reveal-show = A light show, just for you!
reveal-message = A note for you

## Surprise messages when surprises.toml gives none ({ $product } and { $count } as there)
surprise-extra-item = Surprise! One more { $product }, on the house.
surprise-share-pack = Surprise! { $count } more { $product } to share with friends.
surprise-gift = Surprise! A { $product } for you.
surprise-show = Surprise! This one is for you.
recovery-free-item = Sorry! Choose any drink on us
recovery-message = We are sorry. Thank you for your patience.
recovery-refunded = { $product } could not be delivered: { $amount } is back in your credit
recovery-unhappy = Sorry it was not right.
not-in-offer = { $product } is not part of our offer: choose another, or press coin return for your money
odds = 1 in { $n } purchases gets a surprise today: { $prizes }
page-free = Free

## Paying by card
tap-or-insert = Insert coins or tap a card, then choose
tap-card = { $product } costs { $price }: tap a card, or insert { $missing } more
card-ready = Card ready: choose a drink
card-ready-funds = Card ready ({ $funds } to spend): choose a drink
card-waiting = Asking your card for { $price } ({ $product })...
card-declined = Card declined: try another card or pay with coins
card-timed-out = The card reader did not answer: nothing was charged. Try again or pay with coins
refunded-card = Sorry, { $product } could not be delivered: your card was not charged
recovery-refunded-card = { $product } could not be delivered: your card was not charged
