"""SQL session stores: one module per Node package, on one shared foundation.

================== ================================= ====================================
module             Node package                      stores
================== ================================= ====================================
:mod:`.pg`         connect-pg-simple 10.0.0          ``PGStore``, ``AsyncPGStore``
:mod:`.mysql`      express-mysql-session 3.0.3       ``MySQLStore``, ``AsyncMySQLStore``
:mod:`.knex`       connect-session-knex 5.0.0        ``KnexStore``, ``AsyncKnexStore``
                   (PostgreSQL, MySQL, SQLite)
:mod:`.sequelize`  connect-session-sequelize 8.0.6   ``SequelizeStore``,
                   (PostgreSQL, MySQL)               ``AsyncSequelizeStore``
================== ================================= ====================================

The foundation: :mod:`.dialect` (what differs between databases), :mod:`.format` (a Node
package's table and rules, no I/O), :mod:`.times` (the time columns of knex and
sequelize), :mod:`.clients` (which database a URL or connection speaks), :mod:`.plans`
(every operation written once), :mod:`.runner`, :mod:`._sync` and :mod:`._async` (a plan
on a connection, bounded by ``timeout``), :mod:`.shell` (the public methods). Each driver
is imported only when a store that needs it is built: psycopg 3
(``engineio-session[postgres]``), PyMySQL and aiomysql (``engineio-session[mysql]``), the
standard library's sqlite3 (:mod:`._sqlite`).
"""
