-- The year of a court's document serials is the court's year, Beijing time (UTC+8), not the
-- database session's: a notice issued between 00:00 and 08:00 Beijing time on 1 January took
-- the old year's counter from extract(year FROM now()) in a UTC session, and the printed number
-- its year from the application's date.today(). court_year is the one rule; the serial
-- statements use it and return the year they counted in, which the number then prints.

CREATE FUNCTION court_year(at timestamptz) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT extract(year FROM at AT TIME ZONE 'Asia/Shanghai')::integer
$fn$;
